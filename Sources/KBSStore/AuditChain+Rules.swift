import Foundation
package import KBSBroker
import KBSClaims

extension AuditChain {
    /// Checks `entry` against what any store accepts and returns its details as canonical JSON, the text to store and
    /// hash: every store refuses the same entries (a bad kind, an oversized field, a details name that suggests a
    /// secret) with ``StoreErrorCode/invalid``, so a chain reads the same whichever database holds it.
    package static func admit(_ entry: AuditEntry) throws(StoreError) -> String {
        for (name, value) in [("kind", entry.kind.rawValue), ("outcome", entry.outcome.rawValue)] {
            guard (1...64).contains(value.utf8.count), value.utf8.allSatisfy(isNameByte) else {
                throw StoreError(.invalid, "an audit \(name) is 1 to 64 of a-z 0-9 _ . -, not `\(value)`")
            }
        }
        for (name, value) in [("actor", entry.actor), ("action", entry.action), ("resource", entry.resource)] {
            guard value.utf8.count <= Store.maximumAuditFieldBytes else {
                throw StoreError(.invalid, "an audit \(name) exceeds \(Store.maximumAuditFieldBytes) bytes")
            }
        }
        try refuseSecrets(in: .object(entry.details), path: { "details" })
        let detailsJSON = canonicalJSON(entry.details)
        guard detailsJSON.utf8.count <= Store.maximumAuditDetailsBytes else {
            throw StoreError(.invalid, "audit details exceed \(Store.maximumAuditDetailsBytes) bytes")
        }
        return detailsJSON
    }

    /// A walk over a chain's records in sequence order, reporting the first that does not verify: what every store's
    /// verification shares, so SQLite and PostgreSQL judge a chain alike.
    ///
    /// A changed record fails its own hash; a removed one leaves a gap in `seq` (or, if the rest were renumbered, a
    /// `prev_hash` that no longer matches); reordered records fail `prev_hash`.
    package struct Walk: Sendable {
        private var count = 0
        private var previous = AuditHead(seq: 0, hash: AuditChain.genesis)
        private var firstBreak: AuditBreak?

        /// Starts before the first record.
        package init() {}

        /// Checks the next record read.
        package mutating func add(_ record: AuditRecord) {
            count += 1
            if firstBreak == nil { firstBreak = AuditChain.check(record, after: previous) }
            previous = AuditHead(seq: record.seq, hash: record.hash)
        }

        /// Counts a row that could not be read as a record (a value of the wrong type) at `seq`, when that is known.
        package mutating func addMalformed(seq: Int64?, _ message: String) {
            count += 1
            let seq = seq ?? previous.seq + 1
            if firstBreak == nil { firstBreak = AuditBreak(seq: seq, reason: .malformed, message: message) }
            previous = AuditHead(seq: seq, hash: [])
        }

        /// The outcome so far.
        package var verification: AuditVerification {
            AuditVerification(records: count, head: count == 0 ? nil : previous, firstBreak: firstBreak)
        }
    }

    private static func check(_ record: AuditRecord, after previous: AuditHead) -> AuditBreak? {
        if record.seq != previous.seq + 1 {
            let missing = previous.seq + 1
            let range = record.seq - 1 == missing ? "" : " to \(record.seq - 1)"
            return AuditBreak(seq: missing, reason: .missing, message: "missing\(range) (removed; the next record is \(record.seq))")
        }
        guard record.prevHash.count == 32, record.hash.count == 32 else {
            return AuditBreak(seq: record.seq, reason: .malformed, message: "prev_hash or hash is not 32 bytes")
        }
        if record.prevHash != previous.hash {
            let before = previous.seq == 0 ? "the genesis value" : "record \(previous.seq)'s hash"
            return AuditBreak(
                seq: record.seq, reason: .prevHashMismatch,
                message: "prev_hash does not match \(before) (a record was removed, replaced or reordered)")
        }
        if hash(record) != record.hash {
            return AuditBreak(seq: record.seq, reason: .hashMismatch, message: "contents do not match its hash (the record was changed)")
        }
        return nil
    }

    /// `a-z 0-9 _ . -`: what a kind or outcome is spelled with.
    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: "-"):
            true
        default: false
        }
    }

    /// Refuses details whose member names suggest a secret, at any depth: secrets are never audited. `path` names
    /// the value for the refusal, built only when one is refused (this runs on every append).
    private static func refuseSecrets(in value: AuditValue, path: () -> String) throws(StoreError) {
        switch value {
        case .object(let members):
            for (name, member) in members {
                if suggestsSecret(name) {
                    throw StoreError(.invalid, "audit \(path()).\(name) looks like a secret; secrets are never audited")
                }
                try refuseSecrets(in: member, path: { path() + "." + name })
            }
        case .list(let elements):
            for (index, element) in elements.enumerated() { try refuseSecrets(in: element, path: { "\(path())[\(index)]" }) }
        default: return
        }
    }

    /// Whether `name`, lowercased and with `-` read as `_`, is a denied name or ends in `_` and one (`value` only
    /// alone): ``AuditEntry/deniedDetailNames``. ASCII names are compared as bytes without building strings; others
    /// take String's lowercasing, which can map a non-ASCII letter (the Kelvin sign) onto an ASCII one.
    package static func suggestsSecret(_ name: String) -> Bool {
        var normalized: [UInt8] = []
        normalized.reserveCapacity(name.utf8.count)
        for byte in name.utf8 {
            switch byte {
            case 0x80...: return suggestsSecret(normalized: Array(name.lowercased().replacingOccurrences(of: "-", with: "_").utf8))
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): normalized.append(byte + 32)
            case UInt8(ascii: "-"): normalized.append(UInt8(ascii: "_"))
            default: normalized.append(byte)
            }
        }
        return suggestsSecret(normalized: normalized)
    }

    private static func suggestsSecret(normalized: [UInt8]) -> Bool {
        for denied in deniedNames {
            if normalized.elementsEqual(denied.bytes) { return true }
            guard denied.asSuffix, normalized.count > denied.bytes.count else { continue }
            let start = normalized.count - denied.bytes.count
            if normalized[start - 1] == UInt8(ascii: "_") && normalized[start...].elementsEqual(denied.bytes) { return true }
        }
        return false
    }

    /// ``AuditEntry/deniedDetailNames`` as bytes, and whether each also counts as the end of a longer name.
    private static let deniedNames: [(bytes: [UInt8], asSuffix: Bool)] = AuditEntry.deniedDetailNames.sorted().map {
        (Array($0.utf8), $0 != "value")
    }
}
