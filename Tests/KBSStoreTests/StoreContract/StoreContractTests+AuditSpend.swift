import Foundation
import KBSBroker
import KBSClaims
import KBSStore
import Testing

/// An audit record appended together with a single-use spend (the attestation's nonce and its success record): both
/// or neither, and exactly one winner among replicas racing on one value.
extension StoreContractTests {
    static func attested(_ index: Int) -> AuditEntry {
        AuditEntry(
            at: 2_000 + Int64(index), kind: .attestation, actor: "tee:snp", action: "attest", resource: "appraisal-\(index)",
            outcome: .success, details: ["tier": 2])
    }

    @Test(
        "an audit record and a nonce spend commit together: one winner among concurrent spends, no record for the losers",
        arguments: StoreBackend.allCases)
    func auditSpendAtomic(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let spend = SingleUseSpend("n-1", namespace: "rcar-nonce", expires: Self.now + 300, now: Self.now)
            #expect(try await store.first.ports.nonces.isSpent("n-1", namespace: "rcar-nonce", now: Self.now) == false)
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<16 {
                    let audit = store.replica(index).ports.audit
                    group.addTask { try await audit.append(Self.attested(index), spending: spend) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
            let verification = try await store.replica(1).verifyAudit()
            #expect(verification.isValid && verification.records == 1)
            let nonces = store.replica(1).ports.nonces
            #expect(try await nonces.isSpent("n-1", namespace: "rcar-nonce", now: Self.now + 1))
            #expect(try await nonces.isSpent("n-1", namespace: "rcar-nonce", now: Self.now + 300) == false, "expired")
            #expect(try await nonces.isSpent("n-1", namespace: "siwe", now: Self.now) == false, "namespaces are separate")
            // A value spent by the ledger's own useOnce counts as spent here too, and an expired one is taken over.
            #expect(try await nonces.useOnce("n-2", namespace: "rcar-nonce", expires: Self.now + 300, now: Self.now))
            let again = SingleUseSpend("n-2", namespace: "rcar-nonce", expires: Self.now + 600, now: Self.now + 1)
            #expect(try await store.first.ports.audit.append(Self.attested(100), spending: again) == false)
            let later = SingleUseSpend("n-2", namespace: "rcar-nonce", expires: Self.now + 900, now: Self.now + 301)
            #expect(try await store.first.ports.audit.append(Self.attested(101), spending: later))
            let records = try await store.first.auditRecords(1)
            #expect(records.map(\.resource).filter { $0.hasPrefix("appraisal-10") } == ["appraisal-101"])
            #expect(try await store.first.verifyAudit().isValid)
        }
    }

    @Test("a refused audit entry spends nothing", arguments: StoreBackend.allCases)
    func refusedAuditSpendsNothing(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let spend = SingleUseSpend("n-3", namespace: "rcar-nonce", expires: Self.now + 300, now: Self.now)
            let bad = AuditEntry(kind: .attestation, actor: "tee:snp", action: "attest", resource: "a", outcome: .success, details: ["token": "x"])
            let audit = store.first.ports.audit
            await #expect(throws: StoreError.self) { _ = try await audit.append(bad, spending: spend) }
            let spent = try await store.first.ports.nonces.isSpent("n-3", namespace: "rcar-nonce", now: Self.now)
            #expect(spent == false)
            let verification = try await store.first.verifyAudit()
            #expect(verification.records == 0)
        }
    }
}
