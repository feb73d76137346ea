import Foundation
import KBSBroker
import Synchronization

/// The broker's ports in memory: the second implementation beside SQLite, so the ports are proved to be ports.
///
/// Each repository keeps what the SQLite one keeps and answers the same way (a put reports whether it replaced, a
/// revocation keeps its first time, a used value stays used until it expires); the audit trail only appends.
final class InMemoryPorts: Sendable {
    let nonces = MemoryNonceLedger()
    let audit: MemoryAuditTrail
    let resources = MemoryResources()
    let referenceValues = MemoryReferenceValues()
    let capabilityTokens = MemoryCapabilityTokens()

    init() { audit = MemoryAuditTrail(ledger: nonces) }

    /// The ports, with `clock` as the broker's time.
    func ports(clock: @escaping @Sendable () -> Date) -> BrokerPorts {
        BrokerPorts(
            audit: audit, nonces: nonces, resources: resources, referenceValues: referenceValues,
            capabilityTokens: capabilityTokens, clock: clock)
    }
}

/// Appends to a list; `failing` makes every append throw, as a full disk would. An append that spends a value spends
/// it in `ledger` under the ledger's lock, so the two happen together or not at all.
final class MemoryAuditTrail: AuditTrail {
    struct Unwritable: Error {}
    let entries = Mutex<[AuditEntry]>([])
    let failing = Atomic<Bool>(false)
    let ledger: MemoryNonceLedger

    init(ledger: MemoryNonceLedger = MemoryNonceLedger()) { self.ledger = ledger }

    func append(_ entry: AuditEntry) async throws {
        if failing.load(ordering: .relaxed) { throw Unwritable() }
        entries.withLock { $0.append(entry) }
    }

    func append(_ entry: AuditEntry, spending value: SingleUseSpend) async throws -> Bool {
        try ledger.used.withLock { table in
            if failing.load(ordering: .relaxed) { throw Unwritable() }
            guard MemoryNonceLedger.record(value.value, namespace: value.namespace, expires: value.expires, now: value.now, in: &table)
            else { return false }
            entries.withLock { $0.append(entry) }
            return true
        }
    }

    var all: [AuditEntry] { entries.withLock { $0 } }
}

final class MemoryNonceLedger: NonceLedger {
    let used = Mutex<[String: Date]>([:])

    func useOnce(_ value: String, namespace: String, expires: Date, now: Date) async throws -> Bool {
        used.withLock { Self.record(value, namespace: namespace, expires: expires, now: now, in: &$0) }
    }

    /// Records `value` in `table` unless it is there unexpired; whether it was recorded.
    static func record(_ value: String, namespace: String, expires: Date, now: Date, in table: inout [String: Date]) -> Bool {
        table = table.filter { $0.value > now }
        let key = namespace + "\u{0}" + value
        guard table[key] == nil else { return false }
        table[key] = expires
        return true
    }

    func isSpent(_ value: String, namespace: String, now: Date) async throws -> Bool {
        used.withLock { table in table[namespace + "\u{0}" + value].map { $0 > now } ?? false }
    }

    func consume(_ value: String, namespace: String, now: Date) async throws -> Bool {
        used.withLock { table in
            let key = namespace + "\u{0}" + value
            guard let until = table[key], until > now else { return false }
            table[key] = nil
            return true
        }
    }
}

final class MemoryResources: ResourceRepository {
    let table = Mutex<[String: StoredResource]>([:])

    func resource(at path: String) async throws -> StoredResource? { table.withLock { $0[path] } }

    func all() async throws -> [StoredResource] {
        table.withLock {
            $0.values.sorted { $0.path < $1.path }.map {
                StoredResource(path: $0.path, sealed: [], requiredTier: $0.requiredTier, labelsJSON: $0.labelsJSON)
            }
        }
    }

    func put(_ resource: StoredResource) async throws -> Bool {
        table.withLock { table in
            let existed = table[resource.path] != nil
            table[resource.path] = resource
            return existed
        }
    }

    func delete(at path: String) async throws -> Bool { table.withLock { $0.removeValue(forKey: path) != nil } }
}

final class MemoryReferenceValues: ReferenceValueRepository {
    let table = Mutex<[String: [String: [String]]]>([:])

    func add(kind: String, name: String, values: [String]) async throws -> Int {
        table.withLock { table in
            var list = table[kind, default: [:]][name, default: []]
            let new = values.filter { !list.contains($0) }
            list += new
            table[kind, default: [:]][name] = list
            return Set(new).count
        }
    }

    func remove(kind: String, name: String, values: [String]) async throws -> Int {
        table.withLock { table in
            let list = table[kind, default: [:]][name, default: []]
            table[kind, default: [:]][name] = list.filter { !values.contains($0) }
            return list.filter { values.contains($0) }.count
        }
    }

    func all() async throws -> [String: [String: [String]]] { table.withLock { $0 } }
}

final class MemoryCapabilityTokens: CapabilityTokenRepository {
    struct Duplicate: Error {}
    let table = Mutex<[String: StoredCapabilityToken]>([:])

    func insert(_ token: StoredCapabilityToken) async throws {
        try table.withLock { table in
            guard table[token.id] == nil else { throw Duplicate() }
            table[token.id] = token
        }
    }

    func token(_ id: String) async throws -> StoredCapabilityToken? { table.withLock { $0[id] } }

    func all() async throws -> [StoredCapabilityToken] { table.withLock { $0.values.sorted { $0.issuedAt < $1.issuedAt } } }

    func revoke(_ id: String, at time: Int64) async throws -> Bool {
        table.withLock { table in
            guard var token = table[id] else { return false }
            if token.revokedAt == nil { token.revokedAt = time }
            table[id] = token
            return true
        }
    }
}
