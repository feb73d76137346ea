import Crypto
import KBSClaims

/// The ACPI CCEL table header: where the firmware put the confidential-computing event log.
struct CCELTable: Sendable, Equatable {
    /// ACPI table length.
    var length: UInt32
    /// CC type: 2 for TDX.
    var ccType: UInt8
    /// Log area minimum length.
    var logLength: UInt64
    /// Log area start address (guest-physical).
    var logAddress: UInt64

    /// Whether `bytes` start with the CCEL signature.
    static func recognises(_ bytes: [UInt8]) -> Bool { bytes.starts(with: Array("CCEL".utf8)) }

    init(_ bytes: [UInt8]) throws(EvidenceError) {
        var reader = ByteReader(bytes, what: "CCEL table")
        guard try reader.bytes(4) == Array("CCEL".utf8) else { throw EvidenceError(.malformed, "CCEL table signature is not \"CCEL\"") }
        length = try reader.u32()
        guard length >= 56, Int(length) <= bytes.count else { throw EvidenceError(.malformed, "CCEL table length \(length) does not fit") }
        try reader.skip(28)  // revision, checksum, OEM ID and table ID, OEM revision, creator
        ccType = try reader.u8()
        try reader.skip(3)  // subtype, reserved
        logLength = try reader.u64()
        logAddress = try reader.u64()
    }
}

/// A TCG2 crypto-agile event log as a TD's firmware writes it (CCEL), replayed into RTMRs.
///
/// MR index 1…4 extends RTMR0…3 with SHA-384 (index 0 is MRTD, which firmware does not extend); EV_NO_ACTION events
/// are not extended. The log ends at the first all-0xFF or all-zero event header (the buffer is padded).
enum CCEventLog {
    /// Whether `bytes` start with the TCG "Spec ID Event03" header event.
    static func recognises(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 48 && Array(bytes[32..<47]) == Array("Spec ID Event03".utf8)
    }

    static let maximumSize = 16 << 20
    static let maximumEvents = 100_000
    static let sha384: UInt16 = 0x000C

    /// The four RTMR values the log replays to, and how many events it held.
    static func replay(_ bytes: [UInt8]) throws(EvidenceError) -> (rtmrs: [[UInt8]], events: Int) {
        guard bytes.count <= maximumSize else { throw EvidenceError(.malformed, "event log over 16 MiB") }
        var reader = ByteReader(bytes, what: "CC event log")
        // The header event is in the SHA-1 (TCG 1.2) format and lists the digest sizes of every bank.
        _ = try reader.u32()
        let headerType = try reader.u32()
        try reader.skip(20)
        guard headerType == 3 else { throw EvidenceError(.malformed, "event log does not start with EV_NO_ACTION") }
        var header = ByteReader(try reader.bytes(Int(try reader.u32())), what: "Spec ID event")
        guard try header.bytes(16) == Array("Spec ID Event03\0".utf8) else {
            throw EvidenceError(.malformed, "event log header is not Spec ID Event03")
        }
        try header.skip(8)  // platform class u32, spec version minor/major, errata, uintn size
        let algorithms = try header.u32()
        guard algorithms >= 1, algorithms <= 16 else { throw EvidenceError(.malformed, "event log lists \(algorithms) digest algorithms") }
        var sizes: [UInt16: Int] = [:]
        for _ in 0..<algorithms {
            let id = try header.u16()
            sizes[id] = Int(try header.u16())
        }
        guard sizes[sha384] == 48 else { throw EvidenceError(.unsupported, "event log has no SHA-384 bank") }

        var rtmrs = [[UInt8]](repeating: [UInt8](repeating: 0, count: 48), count: 4)
        var events = 0
        while reader.remaining >= 8 {
            let index = try reader.u32()
            let type = try reader.u32()
            if (index == 0xFFFF_FFFF && type == 0xFFFF_FFFF) || (index == 0 && type == 0) {
                break  // padding after the last event
            }
            events += 1
            guard events <= maximumEvents else { throw EvidenceError(.malformed, "event log has too many events") }
            let count = try reader.u32()
            guard count >= 1, count <= 16 else { throw EvidenceError(.malformed, "event \(events) has \(count) digests") }
            var digest: [UInt8]?
            for _ in 0..<count {
                let id = try reader.u16()
                guard let size = sizes[id] else { throw EvidenceError(.malformed, "event \(events) uses an unlisted digest algorithm \(id)") }
                let value = try reader.bytes(size)
                if id == sha384 { digest = value }
            }
            try reader.skip(Int(try reader.u32()))
            // EV_NO_ACTION is never extended; index 0 is MRTD, which the TDX module measures, not the log.
            guard type != 3, index != 0 else { continue }
            guard (1...4).contains(index) else {
                throw EvidenceError(.malformed, "event \(events) names MR index \(index), not 1…4")
            }
            guard let digest else { throw EvidenceError(.malformed, "event \(events) has no SHA-384 digest") }
            var hasher = SHA384()
            hasher.update(data: rtmrs[Int(index) - 1])
            hasher.update(data: digest)
            rtmrs[Int(index) - 1] = Array(hasher.finalize())
        }
        return (rtmrs, events)
    }
}
