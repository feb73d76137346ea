import Foundation
import KBSClaims
import KBSKeys
import KBSPolicy
import Testing

@testable import KBSBroker

/// The Vault API's broker side on in-memory ports with the clock in the test's hand: token lifetimes, what the
/// `kms` bundle refuses before anything exists, tiers fixed at creation, and Transit rotation by the sweeper.
@Suite struct VaultServiceTests {
    typealias Fixture = KeyServiceTests.Fixture

    /// A Vault service on the fixture's broker, bundle and clock.
    static func vault(_ fixture: Fixture, defaultTier: PrivacyTier = .open) -> VaultService {
        VaultService(
            broker: fixture.service.broker, repository: InMemoryVaultRepository(), policy: fixture.service.policy,
            recorder: fixture.decisions, defaultTier: defaultTier)
    }

    /// A caller holding an administrator's token with `policies`.
    static func caller(_ vault: VaultService, policies: [String] = ["default"], ttl: Int64 = 3600) async throws -> (VaultCaller, String) {
        let issued = try await vault.createToken(subject: nil, policies: policies, ttl: ttl, displayName: nil, actor: "admin")
        return (try await vault.caller(token: issued.token), issued.token)
    }

    /// The same caller with `tier`, as a token from `auth/kbs/login` would carry it.
    static func attested(_ caller: VaultCaller, tier: Int) -> VaultCaller {
        var entry = caller.entry
        entry.tier = tier
        return VaultCaller(identity: caller.identity, entry: entry, tokenHash: caller.tokenHash, evidence: nil)
    }

    @Test func tokensExpireRenewOnlyToTheirMaximumAndRevoke() async throws {
        let fixture = try Fixture()
        let vault = Self.vault(fixture)
        let (caller, token) = try await Self.caller(vault, ttl: 600)
        #expect(caller.entry.tier == 1 && caller.entry.policies == ["default"] && caller.entry.expiresAt == caller.entry.issuedAt + 600)
        #expect(!fixture.memory.audit.all.contains { "\($0.details)".contains(token) }, "the token is never audited")

        fixture.clock.advance(500)
        let renewed = try await vault.renew(caller, increment: 86_400 * 365)
        #expect(renewed.expiresAt == renewed.maximumExpiry, "renewal stops at the token's maximum")
        fixture.clock.advance(Double(renewed.expiresAt - Int64(fixture.clock.now.timeIntervalSince1970)) + 1)
        #expect(await KeyServiceTests.code { _ = try await vault.caller(token: token) } == "vault_permission_denied", "expired")

        let (other, otherToken) = try await Self.caller(vault)
        try await vault.revoke(other)
        #expect(await KeyServiceTests.code { _ = try await vault.caller(token: otherToken) } == "vault_permission_denied", "revoked")
        #expect(await KeyServiceTests.code { _ = try await vault.caller(token: "hvs.forged") } == "vault_permission_denied")
        #expect(await KeyServiceTests.code { _ = try await vault.caller(token: "not-a-vault-token") } == "vault_permission_denied")
    }

    @Test func pathsATokenDoesNotNameAreRefusedWhetherOrNotAnythingIsThere() async throws {
        let fixture = try Fixture()
        let vault = Self.vault(fixture)
        let (admin, _) = try await Self.caller(vault)
        let (ci, _) = try await Self.caller(vault, policies: ["secret/ci/**"])
        _ = try await vault.kvWrite(admin, "app/db", data: Array(#"{"p":"1"}"#.utf8), cas: nil)

        // Existing or not, secret/app/* is refused alike: nothing is learnt of what exists.
        #expect(await KeyServiceTests.code { _ = try await vault.kvRead(ci, "app/db", version: nil) } == "vault_permission_denied")
        #expect(await KeyServiceTests.code { _ = try await vault.kvRead(ci, "app/missing", version: nil) } == "vault_permission_denied")
        #expect(await KeyServiceTests.code { _ = try await vault.kvRead(ci, "ci/missing", version: nil) } == "vault_not_found")
        // A new secret is decided on its path: asking makes no one its creator.
        #expect(
            await KeyServiceTests.code { _ = try await vault.kvWrite(ci, "app/new", data: Array("{}".utf8), cas: nil) } == "vault_permission_denied")
        #expect(await KeyServiceTests.code { _ = try await vault.createTransitKey(ci, "payments", .init()) } == "vault_permission_denied")
        #expect(
            await KeyServiceTests.code { _ = try await vault.transitEncrypt(ci, "payments", [TransitItem(plaintext: [1])], version: nil) }
                == "vault_permission_denied")
        #expect(
            await KeyServiceTests.code { _ = try await vault.transitDecrypt(ci, "missing", [TransitItem(ciphertext: "vault:v1:AAAA")]) }
                == "vault_permission_denied")
        _ = try await vault.kvWrite(ci, "ci/build", data: Array("{}".utf8), cas: nil)
        #expect(fixture.decisions.all.contains { !$0.decision.isPermitted && $0.resourceID == "secret/app/new" && $0.action == "vault:kv:write" })
    }

    @Test func aSecretsTierIsSetWhenItIsCreatedAndGuardsItsData() async throws {
        let fixture = try Fixture()
        let vault = Self.vault(fixture)
        let (admin, _) = try await Self.caller(vault)
        try await vault.kvWriteMetadata(
            admin, "gpu/key", maxVersions: nil, casRequired: nil, deleteVersionAfter: nil, customMetadata: ["kbs:required-tier": "3"])
        #expect(
            await KeyServiceTests.code { _ = try await vault.kvWrite(admin, "gpu/key", data: Array("{}".utf8), cas: nil) }
                == "vault_permission_denied")
        let gpu = Self.attested(admin, tier: 3)
        _ = try await vault.kvWrite(gpu, "gpu/key", data: Array(#"{"k":"v"}"#.utf8), cas: nil)
        #expect(await KeyServiceTests.code { _ = try await vault.kvRead(admin, "gpu/key", version: nil) } == "vault_permission_denied")
        #expect(try await vault.kvRead(gpu, "gpu/key", version: nil).data == Array(#"{"k":"v"}"#.utf8))
        // Lowering it afterwards is refused, even to the tier-3 caller.
        #expect(
            await KeyServiceTests.code {
                try await vault.kvWriteMetadata(
                    gpu, "gpu/key", maxVersions: nil, casRequired: nil, deleteVersionAfter: nil, customMetadata: ["kbs:required-tier": "1"])
            } == "vault_invalid_request")
    }

    @Test func aSecretsVersionsStayWithinTheirBound() async throws {
        let fixture = try Fixture()
        let vault = Self.vault(fixture)
        let (admin, _) = try await Self.caller(vault)
        try await vault.kvWriteMetadata(admin, "big", maxVersions: 100, casRequired: nil, deleteVersionAfter: nil, customMetadata: nil)
        let value = Array(#"{"v":""#.utf8) + Array(repeating: UInt8(ascii: "x"), count: 500 * 1024) + Array(#""}"#.utf8)
        for _ in 1...16 { _ = try await vault.kvWrite(admin, "big", data: value, cas: nil) }
        #expect(await KeyServiceTests.code { _ = try await vault.kvWrite(admin, "big", data: value, cas: nil) } == "vault_invalid_request")
        #expect(try await vault.kvMetadata(admin, "big").currentVersion == 16, "the refused write left the secret as it was")
    }

    @Test func transitKeysPastTheirRotationPeriodAreRotatedBySweeps() async throws {
        let fixture = try Fixture()
        let vault = Self.vault(fixture)
        let (admin, _) = try await Self.caller(vault)
        var options = VaultService.TransitOptions()
        options.autoRotatePeriod = 3600
        _ = try await vault.createTransitKey(admin, "rotating", options)
        _ = try await vault.createTransitKey(admin, "still", .init())
        let before = try await vault.transitEncrypt(admin, "rotating", [TransitItem(plaintext: Array("old".utf8))], version: nil)
        let records = try await fixture.service.broker.vault.keySource.hierarchy().store

        #expect(await vault.sweepTransitRotations(records: records) == KeySweep(), "not due yet")
        fixture.clock.advance(3601)
        let sweep = await vault.sweepTransitRotations(records: records)
        #expect(sweep.rotated.count == 1 && sweep.rotated[0].hasPrefix("transit/rotating/") && sweep.failures.isEmpty, "\(sweep)")
        #expect(await vault.sweepTransitRotations(records: records) == KeySweep(), "rotated once a period")
        #expect(try await vault.readTransitKey(admin, "rotating").latestVersion == 2)
        #expect(try await vault.readTransitKey(admin, "still").latestVersion == 1)
        #expect(
            fixture.memory.audit.all.contains { $0.action == "vault:transit:rotate" && $0.actor == "kbs" && $0.details["automatic"] == .bool(true) })
        guard case .sealed(let ciphertext, _)? = before.first else {
            Issue.record("no ciphertext")
            return
        }
        let opened = try await vault.transitDecrypt(admin, "rotating", [TransitItem(ciphertext: ciphertext)])
        guard case .opened(let plaintext)? = opened.first else {
            Issue.record("\(opened)")
            return
        }
        #expect(plaintext == Array("old".utf8), "older versions still decrypt")
    }
}
