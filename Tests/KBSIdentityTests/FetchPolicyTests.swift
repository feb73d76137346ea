import Foundation
import KBSClaims
import Testing

@testable import KBSIdentity

/// The network policy every fetch goes through: https only, public addresses only, no credentials in URLs. These
/// refusals happen before any connection, so they run offline.
struct FetchPolicyTests {
    @Test(arguments: [
        "http://idp.example/.well-known/openid-configuration",  // not https
        "https://127.0.0.1/did.json", "https://[::1]/did.json", "https://localhost/did.json",  // loopback
        "https://169.254.169.254/latest/meta-data/", "https://10.1.2.3/", "https://172.20.0.1/", "https://192.168.1.1/",
        "https://100.64.0.1/", "https://0.0.0.0/", "https://[fe80::1]/", "https://[fc00::1]/", "https://[::ffff:127.0.0.1]/",
        "https://user:pass@idp.example/", "https:///nohost", "https://exa mple.com/", "ftp://idp.example/",
    ])
    func refusedBeforeConnecting(_ url: String) {
        #expect(throws: IdentityError.self) { try HTTPSFetcher.check(url) }
    }

    @Test func publicLiteralsPass() throws {
        #expect(AddressPolicy.isPublic(v4: [93, 184, 216, 34]))
        #expect(!AddressPolicy.isPublic(v4: [198, 18, 0, 1]))
        #expect(AddressPolicy.isPublic(v6: [0x26, 0x06, 0x28, 0x00, 0x02, 0x20, 0, 1, 0x2, 0x48, 0x18, 0x93, 0x25, 0xc8, 0x19, 0x46]))
        #expect(!AddressPolicy.isPublic(v6: [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 12)))
        _ = try HTTPSFetcher.check("https://93.184.216.34/did.json")
    }

    @Test func didWebDocumentURLs() throws {
        #expect(try DIDWeb.documentURL("did:web:w3c-ccg.github.io") == "https://w3c-ccg.github.io/.well-known/did.json")
        #expect(try DIDWeb.documentURL("did:web:w3c-ccg.github.io:user:alice") == "https://w3c-ccg.github.io/user/alice/did.json")
        #expect(try DIDWeb.documentURL("did:web:example.com%3A3000:user:alice") == "https://example.com:3000/user/alice/did.json")
        for bad in [
            "did:web:", "did:web:example.com::x", "did:web:example.com:a%2Fb", "did:web:ex@mple.com", "did:web:example.com:..",
            "did:web:evil.com%2F@good.com", "did:key:z6Mk", "did:web:93.184.216.34", "did:web:example.com%3A99999",
            "did:web:example.com%3A80%3A81", "did:web:example.com:%2E%2E:admin",
        ] {
            #expect(throws: IdentityError.self, "\(bad)") { try DIDWeb.documentURL(bad) }
        }
    }

    @Test func didWebWithoutAFetcherIsUnsupported() async throws {
        let verifier = DIDJWSVerifier(audience: "https://kbs.example")
        // A did:web proof's header is enough to reach the resolver; the signature never gets checked.
        let header = Base64URL.encode(Array(#"{"alg":"EdDSA","kid":"did:web:example.com#key-1"}"#.utf8))
        let token = header + ".e30." + Base64URL.encode([UInt8](repeating: 1, count: 64))
        await #expect(throws: IdentityError(.unsupported, "did:web needs a document fetcher, and none is configured")) {
            try await verifier.verify(Array(token.utf8), at: Date())
        }
    }
}
