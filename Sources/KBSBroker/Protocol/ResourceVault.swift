import Foundation
import KBSClaims
package import KBSKeys

/// Resources (secrets sealed by the key hierarchy) and run-time reference values behind the broker's ports, every
/// change audited: what the admin API and `kbs secrets` / `kbs refvals` drive, while a server runs or not.
package struct ResourceVault: Sendable {
    let resourceRepository: any ResourceRepository
    let referenceRepository: any ReferenceValueRepository
    let trail: any AuditTrail
    let keySource: KeySource
    let clock: @Sendable () -> Date
    let onAuditFailure: @Sendable () -> Void

    /// The data key that seals resource values, and the key-encryption key above it.
    package static let resourceKeyID = "kbs-resources"
    package static let resourceParentID = "kbs-resources-kek"

    /// Creates a vault over `ports` whose key hierarchy `keys` opens on first use.
    package init(ports: BrokerPorts, keys: KeySource, onAuditFailure: @escaping @Sendable () -> Void = {}) {
        self.resourceRepository = ports.resources
        self.referenceRepository = ports.referenceValues
        self.trail = ports.audit
        self.keySource = keys
        self.clock = ports.clock
        self.onAuditFailure = onAuditFailure
    }

    /// The key hierarchy, with the resource keys in it (created on first use, audited).
    func keys() async throws(BrokerError) -> KeyHierarchy {
        let (keys, created) = try await keySource.hierarchy(dataKey: Self.resourceKeyID, parent: Self.resourceParentID, now: clock())
        for id in created {
            try await audit(AuditEntry(kind: .keyOperation, actor: "kbs", action: "create", resource: id, outcome: .success))
        }
        return keys
    }

    /// Appends to the audit log, or refuses the step as `audit_unavailable`.
    func audit(_ entry: AuditEntry) async throws(BrokerError) {
        do { try await trail.append(entry) } catch {
            onAuditFailure()
            throw BrokerError(.unavailable, "audit_unavailable", "the audit log cannot be written, so nothing is released")
        }
    }

    /// A resource's description (never its value).
    package struct ResourceInfo: Sendable {
        package var path: String
        package var requiredTier: Int
        package var labelsJSON: String
        package var created: Bool
    }

    /// Seals `value` under the resource data key (the path bound as additional data) and stores it; audited.
    package func putResource(path: String, value: borrowing SecretBytes, requiredTier: Int, labels: [String: String], actor: String)
        async throws(BrokerError) -> ResourceInfo
    {
        try Broker.validatePath(path)
        guard (0...4).contains(requiredTier) else { throw .badRequest("invalid_request", "`required_tier` must be 0 to 4") }
        guard value.count <= 64 * 1024 else { throw .badRequest("invalid_request", "a resource value is at most 64 KiB") }
        var labelsWriter = JSONWriter()
        labelsWriter.object { object in for (name, value) in labels.sorted(by: { $0.key < $1.key }) { object.member(name, value) } }
        let labelsJSON = labelsWriter.text
        var plaintext = value.withUnsafeBytes { Array($0) }
        defer { SecretBytes.wipe(&plaintext) }
        let keys = try await keys()
        let sealed: [UInt8]
        do { sealed = try await keys.encrypt(keyID: Self.resourceKeyID, plaintext: plaintext, aad: Array(path.utf8)) } catch {
            try? await audit(
                AuditEntry(
                    kind: .admin, actor: actor, action: "put_resource", resource: path, outcome: .failure,
                    details: ["reason": .string(error.reason.rawValue)]))
            throw BrokerError(.unavailable, "key_\(error.reason.rawValue)", "the resource key refuses use: \(error.message)")
        }
        // Audited first: a put that cannot be audited is not made.
        try await audit(
            AuditEntry(
                kind: .admin, actor: actor, action: "put_resource", resource: path, outcome: .success,
                details: ["required_tier": .integer(Int64(requiredTier)), "bytes": .integer(Int64(value.count))]))
        let existed: Bool
        do {
            existed = try await resourceRepository.put(StoredResource(path: path, sealed: sealed, requiredTier: requiredTier, labelsJSON: labelsJSON))
        } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the resource cannot be stored: \(error)")
        }
        return ResourceInfo(path: path, requiredTier: requiredTier, labelsJSON: labelsJSON, created: !existed)
    }

    /// Deletes a resource; false when there was none. Audited.
    package func deleteResource(path: String, actor: String) async throws(BrokerError) -> Bool {
        try Broker.validatePath(path)
        try await audit(AuditEntry(kind: .admin, actor: actor, action: "delete_resource", resource: path, outcome: .success))
        do { return try await resourceRepository.delete(at: path) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the resource cannot be deleted: \(error)")
        }
    }

    /// Every resource's path, tier and labels.
    package func resources() async throws(BrokerError) -> [ResourceInfo] {
        do {
            return try await resourceRepository.all().map {
                ResourceInfo(path: $0.path, requiredTier: $0.requiredTier, labelsJSON: $0.labelsJSON, created: false)
            }
        } catch {
            throw BrokerError(.unavailable, "store_unavailable", "resources cannot be read: \(error)")
        }
    }

    /// The value of a resource, for `kbs secrets get` (an administrator holding the master passphrase).
    package func resourceValue(path: String, actor: String) async throws(BrokerError) -> SecretBytes {
        try Broker.validatePath(path)
        let stored: StoredResource?
        do { stored = try await resourceRepository.resource(at: path) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the resource store cannot be read")
        }
        guard let stored else { throw BrokerError(.notFound, "not_found", "no resource at \(path)") }
        let keys = try await keys()
        try await audit(AuditEntry(kind: .admin, actor: actor, action: "get_resource", resource: path, outcome: .success))
        do {
            var plaintext = try await keys.decrypt(stored.sealed, aad: Array(path.utf8))
            defer { SecretBytes.wipe(&plaintext) }
            return SecretBytes(copying: plaintext)
        } catch {
            throw BrokerError(.forbidden, "key_\(error.reason.rawValue)", "the resource's key refuses use: \(error.message)")
        }
    }

    /// Adds allowed values (lowercase hex) for claim `name` of evidence `kind`; returns how many were new. Audited.
    package func addReferenceValues(kind: String, name: String, values: [String], actor: String) async throws(BrokerError) -> Int {
        try Broker.validateReferenceValues(kind: kind, name: name, values: values)
        let normalized = values.map { $0.lowercased() }
        try await audit(
            AuditEntry(
                kind: .admin, actor: actor, action: "add_reference_values", resource: "\(kind).\(name)", outcome: .success,
                details: ["values": .list(normalized.map { .string($0) })]))
        do { return try await referenceRepository.add(kind: kind, name: name, values: normalized) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "reference values cannot be stored: \(error)")
        }
    }

    /// Removes allowed values of claim `name` of evidence `kind`; returns how many were there. Audited first: a removal
    /// that cannot be audited is not made. The next release decides without them (``ReleaseRevisions``).
    package func removeReferenceValues(kind: String, name: String, values: [String], actor: String) async throws(BrokerError) -> Int {
        try Broker.validateReferenceValues(kind: kind, name: name, values: values)
        let normalized = values.map { $0.lowercased() }
        try await audit(
            AuditEntry(
                kind: .admin, actor: actor, action: "remove_reference_values", resource: "\(kind).\(name)", outcome: .success,
                details: ["values": .list(normalized.map { .string($0) })]))
        do { return try await referenceRepository.remove(kind: kind, name: name, values: normalized) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "reference values cannot be removed: \(error)")
        }
    }

    /// Every reference value added at run time: kind → name → values.
    package func referenceValues() async throws(BrokerError) -> [String: [String: [String]]] {
        do { return try await referenceRepository.all() } catch {
            throw BrokerError(.unavailable, "store_unavailable", "reference values cannot be read")
        }
    }
}

extension Broker {
    /// Kinds and names are identifiers (what the policy indexes by); values are hex of 1–128 bytes, since the
    /// policy reads them as `hex` and one malformed value would make every decision fail to decode.
    static func validateReferenceValues(kind: String, name: String, values: [String]) throws(BrokerError) {
        func identifier(_ text: String) -> Bool {
            !text.isEmpty && text.utf8.count <= 64
                && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F || $0 == 0x2D }
        }
        guard identifier(kind), identifier(name) else {
            throw .badRequest("invalid_request", "`kind` and `name` are lowercase identifiers (letters, digits, `_`, `-`)")
        }
        guard !values.isEmpty, values.count <= 1000 else { throw .badRequest("invalid_request", "`values` holds 1 to 1000 hex strings") }
        for value in values {
            guard value.utf8.count % 2 == 0, (2...256).contains(value.utf8.count),
                value.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46) })
            else { throw .badRequest("invalid_request", "reference value `\(value.prefix(80))` is not hex of 1 to 128 bytes") }
        }
    }
}
