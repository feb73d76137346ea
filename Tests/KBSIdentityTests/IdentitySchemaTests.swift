import Foundation
import KBSClaims
import KBSIdentity
import KBSPolicy
import KBSPolicyTesting
import Testing

/// The `Principal` schema and what verifiers print agree: a policy written against the schema decides on
/// `Principal.json` as printed, for every kind.
struct IdentitySchemaTests {
    static let policy = """
        input {
          principal: Principal
        }

        permit mainnet_wallet when {
          has principal.siwe
          principal.siwe.chain_id == 1
          principal.verified_at > time"2026-01-01T00:00:00Z"
        }

        permit corporate_login when {
          has principal.jwt
          principal.issuer == "https://idp.example"
          has principal.jwt.exp
          principal.jwt.exp > time"2026-01-01T00:00:00Z"
        }

        permit saml_login when {
          has principal.saml
          principal.saml.assertion_id != ""
          len(principal.saml.attributes) >= 0
        }

        permit signed_request when {
          has principal.hmac
          "content-digest" in principal.hmac.covered or "@query" in principal.hmac.covered
        }

        permit other_kinds when {
          principal.method in {"eip191", "eip712", "did"}
          has principal.eip191 or has principal.eip712 or has principal.did
        }
        """

    static func bundle() throws -> PolicySet {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("principal-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try policy.write(toFile: directory + "/identity.policy", atomically: true, encoding: .utf8)
        switch PolicySet.load(directory: directory, registry: IdentitySchemas.register(into: .standard)) {
        case .success(let set): return set
        case .failure(let error): throw error
        }
    }

    @Test func policiesNameThePrincipalSchema() throws {
        #expect(throws: (any Error).self) {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("unregistered-\(UUID())").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try Self.policy.write(toFile: directory + "/identity.policy", atomically: true, encoding: .utf8)
            if case .failure(let error) = PolicySet.load(directory: directory) { throw error }
        }
        _ = try Self.bundle()
    }

    @Test(arguments: IdentityFixtureTests.cases.filter { $0.expect == "accept" && $0.after == nil })
    func everyAcceptedPrincipalFitsTheSchema(_ fixture: IdentityFixtureTests.Case) async throws {
        let set = try Self.bundle()
        let verifier = try VerifierFactory.make(kind: fixture.kind, options: fixture.options, directory: fixture.directory)
        let bytes = try #require(FileManager.default.contents(atPath: fixture.directory + "/" + fixture.credential))
        let principal = try await verifier.verify(Array(bytes), at: fixture.now)
        let decision = set.decide(json: Array(("{\"principal\":" + principal.json + "}").utf8))
        #expect(decision.errors.isEmpty, "\(decision.errors)")
        let permitted = fixture.kind != .jwt || principal.issuer == "https://idp.example"
        #expect((decision.effect == .permit) == permitted, "\(principal.json)")
    }
}
