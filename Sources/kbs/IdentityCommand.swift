import ArgumentParser
import Foundation
import KBSClaims
import KBSIdentity

/// `kbs identity …`: check credentials the way the broker will.
struct IdentityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity",
        abstract: "Verify identity credentials: OIDC/JWT, SAML, Ethereum signatures, DIDs, HMAC-signed requests.",
        subcommands: [Verify.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify one credential and print the authenticated principal as JSON.",
            discussion: """
                Trust options by kind (required first):
                  jwt     --issuer ISS --audience AUD (--jwks FILE | --discovery) [--nonce N] [--access-token] [--algorithms A,B]
                          [--jwks-refresh FILE] [--documents MAP]
                  saml    --idp-cert FILE --issuer IDP_ENTITY_ID --sp-entity-id ID --acs-url URL [--request-id ID]
                  eip191  --address 0x…
                  eip712  --address 0x… [--chain-id N] [--verifying-contract 0x…] [--domain-name NAME]
                  siwe    --domain HOST [--address 0x…] [--nonce N] [--chain-id N]
                  did     --audience AUD [--nonce N] [--documents MAP]
                  hmac    --keys FILE
                --discovery finds the JWK Set through <issuer>/.well-known/openid-configuration; it and did:web fetch over
                HTTPS (public addresses only, no redirects) unless --documents maps each URL to a local file.
                The credential file holds what Fixtures/identity/FORMAT.md describes for its kind (`-` reads stdin).
                A refusal prints `error: <reason>: <message>` and exits 1; the reason codes are listed there too.
                """)

        @Option(help: "The credential kind: \(CredentialKind.allCases.map(\.rawValue).joined(separator: ", ")).")
        var kind: String

        @Option(help: "The file holding the credential, or - for standard input.")
        var credential: String

        @Option(help: "Verify as of this RFC 3339 time instead of now.")
        var at: String?

        @Option(help: "jwt: the issuer's JWKS file.") var jwks: String?
        @Option(help: "jwt: a JWKS file read once when a token names an unknown key (a rotation).") var jwksRefresh: String?
        @Flag(help: "jwt: find the issuer's JWK Set through OpenID Connect Discovery.") var discovery = false
        @Option(help: "jwt, did: a JSON map from HTTPS URL to local file, used instead of the network.") var documents: String?
        @Option(help: "jwt: the exact `iss` expected; saml: the IdP entity id.") var issuer: String?
        @Option(help: "saml: the IdP's signing certificate(s), PEM.") var idpCert: String?
        @Option(help: "saml: our SP entity id, which an Audience must name.") var spEntityId: String?
        @Option(help: "saml: our assertion consumer service URL (Destination and Recipient).") var acsUrl: String?
        @Option(help: "saml: the ID of the AuthnRequest this login sent.") var requestId: String?
        @Option(help: "jwt, did: the audience we are.") var audience: String?
        @Option(help: "jwt, did, siwe: the nonce this login sent.") var nonce: String?
        @Flag(help: "jwt: expect an OAuth access token (typ at+jwt) rather than an ID token.") var accessToken = false
        @Option(help: "jwt: the issuer's algorithm allow-list, comma-separated.") var algorithms: String?
        @Option(help: "eip191, eip712, siwe: the address that must have signed.") var address: String?
        @Option(help: "eip712, siwe: the chain id expected.") var chainId: String?
        @Option(help: "eip712: the domain's verifyingContract expected.") var verifyingContract: String?
        @Option(help: "eip712: the domain's name expected.") var domainName: String?
        @Option(help: "siwe: our domain (host[:port]).") var domain: String?
        @Option(help: "hmac: the API key file {\"keys\":[{\"keyid\",\"secret\"}]}.") var keys: String?

        /// The largest credential read; every kind's own limit is smaller.
        static let maximumCredentialBytes = 1 << 20

        func run() async throws {
            guard let kind = CredentialKind(rawValue: kind) else {
                throw Refusal(
                    code: "usage",
                    message: "unknown kind `\(kind)`; expected one of \(CredentialKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var time = Date()
            if let at {
                guard let nanos = Timestamp.nanoseconds(fromRFC3339: at) else {
                    throw Refusal(code: "usage", message: "--at `\(at)` is not an RFC 3339 time such as 2026-11-25T12:00:00Z")
                }
                time = Date(timeIntervalSince1970: Double(nanos) / 1e9)
            }
            let bytes = try readCredential()
            let principal: Principal
            do throws(IdentityError) {
                let verifier = try VerifierFactory.make(kind: kind, options: options, directory: FileManager.default.currentDirectoryPath)
                principal = try await verifier.verify(bytes, at: time)
            } catch {
                throw Refusal(code: error.reason.rawValue, message: error.message)
            }
            Console.out(principal.json)
        }

        /// The trust options given, named as ``VerifierFactory`` names them.
        var options: [String: String] {
            let given: [(String, String?)] = [
                ("jwks", jwks), ("jwks_refresh", jwksRefresh), ("discovery", discovery ? "true" : nil), ("documents", documents), ("issuer", issuer),
                ("audience", audience), ("nonce", nonce),
                ("access_token", accessToken ? "true" : nil), ("algorithms", algorithms), ("address", address),
                ("chain_id", chainId), ("verifying_contract", verifyingContract), ("domain_name", domainName),
                ("domain", domain), ("keys", keys), ("idp_cert", idpCert), ("sp_entity_id", spEntityId), ("acs_url", acsUrl),
                ("request_id", requestId),
            ]
            var result: [String: String] = [:]
            for (name, value) in given { if let value { result[name] = value } }
            return result
        }

        private func readCredential() throws -> [UInt8] {
            let handle: FileHandle
            if credential == "-" {
                handle = FileHandle.standardInput
            } else {
                guard let file = FileHandle(forReadingAtPath: credential) else {
                    throw Refusal(code: "usage", message: "cannot read the credential file \(credential)")
                }
                handle = file
            }
            defer { if credential != "-" { try? handle.close() } }
            let data: Data
            do { data = try handle.read(upToCount: Self.maximumCredentialBytes + 1) ?? Data() } catch {
                throw Refusal(code: "usage", message: "cannot read the credential file \(credential): \(error.localizedDescription)")
            }
            guard data.count <= Self.maximumCredentialBytes else {
                throw Refusal(code: "malformed", message: "the credential is over \(Self.maximumCredentialBytes) bytes")
            }
            return Array(data)
        }
    }
}
