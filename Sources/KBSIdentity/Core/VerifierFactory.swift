import Foundation
import KBSClaims

/// Builds a verifier from trust options named as `kbs identity verify` names them (`--jwks` → `jwks`,
/// `--access-token` → `access_token`). File-valued options are resolved against `directory`.
///
/// The command line and the fixture tests both come through here, so what the tests check is what users run.
package enum VerifierFactory {
    /// The options each kind takes; the first group is required.
    package static let options: [CredentialKind: (required: [String], optional: [String])] = [
        .jwt: (["issuer", "audience"], ["jwks", "discovery", "documents", "nonce", "access_token", "algorithms", "jwks_refresh"]),
        .eip191: (["address"], []),
        .eip712: (["address"], ["chain_id", "verifying_contract", "domain_name"]),
        .siwe: (["domain"], ["address", "nonce", "chain_id"]),
        .did: (["audience"], ["nonce", "documents"]),
        .hmac: (["keys"], []),
        .saml: (["idp_cert", "issuer", "sp_entity_id", "acs_url"], ["request_id"]),
        .apiKey: ([], []),
    ]

    /// A verifier of `kind` configured by `options`; `configuration` errors name the option at fault.
    package static func make(
        kind: CredentialKind, options: [String: String], directory: String = ".",
        replay: any ReplayCache = MemoryReplayCache()
    ) throws(IdentityError) -> any CredentialVerifier {
        let known = VerifierFactory.options[kind]!
        for name in known.required where options[name] == nil {
            throw IdentityError(.configuration, "`\(kind.rawValue)` needs --\(name.replacingOccurrences(of: "_", with: "-"))")
        }
        for name in options.keys where !known.required.contains(name) && !known.optional.contains(name) {
            throw IdentityError(.configuration, "`\(kind.rawValue)` takes no --\(name.replacingOccurrences(of: "_", with: "-"))")
        }
        func path(_ name: String) -> String? {
            options[name].map { $0.hasPrefix("/") ? $0 : directory + "/" + $0 }
        }
        func integer(_ name: String) throws(IdentityError) -> Int64? {
            guard let text = options[name] else { return nil }
            guard let value = Int64(text) else {
                throw IdentityError(.configuration, "--\(name.replacingOccurrences(of: "_", with: "-")) must be a number")
            }
            return value
        }
        func flag(_ name: String) -> Bool { options[name].map { $0 == "true" || $0 == "1" || $0.isEmpty } ?? false }

        // Documents come from the URL map when one is given, else over HTTPS under HTTPSFetcher's policy.
        func fetcher() throws(IdentityError) -> any DocumentFetcher {
            if let map = path("documents") { return try FileDocumentFetcher(mapPath: map) }
            return HTTPSFetcher()
        }

        switch kind {
        case .jwt:
            let source: any KeySetSource
            switch (path("jwks"), flag("discovery")) {
            case (let file?, false): source = FileKeySetSource(paths: [file] + (path("jwks_refresh").map { [$0] } ?? []))
            case (nil, true): source = DiscoveryKeySetSource(issuer: options["issuer"]!, fetcher: try fetcher())
            default: throw IdentityError(.configuration, "`jwt` takes its keys from --jwks FILE or --discovery, one of the two")
            }
            let keys = IssuerKeys(source: source)
            let algorithms = options["algorithms"].map { Set($0.split(separator: ",").map(String.init)) } ?? JWTVerifier.defaultAlgorithms
            return JWTVerifier(
                issuer: options["issuer"]!, audience: options["audience"]!, nonce: options["nonce"],
                accessToken: flag("access_token"), algorithms: algorithms, keys: keys)
        case .eip191:
            return PersonalSignVerifier(address: options["address"]!)
        case .eip712:
            return TypedDataVerifier(
                address: options["address"]!, chainID: try integer("chain_id"),
                verifyingContract: options["verifying_contract"], domainName: options["domain_name"])
        case .siwe:
            return SIWEVerifier(
                domain: options["domain"]!, address: options["address"], nonce: options["nonce"],
                chainID: try integer("chain_id"), replay: replay)
        case .did:
            return DIDJWSVerifier(audience: options["audience"]!, nonce: options["nonce"], fetcher: try fetcher())
        case .hmac:
            guard let data = FileManager.default.contents(atPath: path("keys")!) else {
                throw IdentityError(.configuration, "cannot read the key file \(path("keys")!)")
            }
            return HTTPSignatureVerifier(keys: try HTTPSignatureVerifier.keys(fromJSON: Array(data)), replay: replay)
        case .apiKey:
            throw IdentityError(.configuration, "API keys are checked against the server's store (`kbs serve`), not from the command line")
        case .saml:
            guard let pem = FileManager.default.contents(atPath: path("idp_cert")!) else {
                throw IdentityError(.configuration, "cannot read the IdP certificate file \(path("idp_cert")!)")
            }
            return try SAMLVerifier(
                certificatePEM: Array(pem), issuer: options["issuer"]!, serviceProvider: options["sp_entity_id"]!,
                consumerURL: options["acs_url"]!, requestID: options["request_id"], replay: replay)
        }
    }
}
