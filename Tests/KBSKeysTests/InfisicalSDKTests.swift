import Foundation
import Testing

/// The official Python client, `infisicalsdk`, checks that the stand-in speaks Infisical's wire format.
@Suite(InfisicalTools.needed)
struct InfisicalSDKTests {
    @Test func officialClientWorksAgainstTheStandIn() throws {
        let standIn = try InfisicalStandIn()
        defer { standIn.stop() }
        let (status, output) = try standIn.sdk(["check"])
        #expect(status == 0, "\(output)")
        for step in [
            "login", "create-key", "get-key-by-name", "encrypt", "decrypt", "tampered-ciphertext-refused",
            "create-secret", "get-secret", "update-secret", "get-updated-secret", "list-secrets", "missing-secret-404",
            "wrong-secret-refused", "bad-token-refused",
        ] {
            #expect(output.contains("ok \(step)\n"), "step \(step) missing from:\n\(output)")
        }
        #expect(output.hasSuffix("all checks passed\n"), "\(output)")
    }

    @Test func officialClientIsRefusedWithAWrongSecret() throws {
        let standIn = try InfisicalStandIn()
        defer { standIn.stop() }
        let (status, output) = try standIn.sdk(["get-secret", "dev", "/", "ANY"], secret: "not-the-secret")
        #expect(status != 0)
        #expect(output.contains("Invalid credentials (Status: 401)"), "\(output)")
    }
}
