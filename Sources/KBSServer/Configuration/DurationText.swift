/// Durations as Vault and the configuration file write them: `90`, `90s`, `15m`, `8h`, `1h30m`, `768h`, `7d` (days
/// are this server's addition to Vault's).
enum DurationText {
    /// Seconds, or nil when `text` is not a duration.
    static func seconds(_ text: String) -> Int64? {
        if let plain = Int64(text), plain >= 0 { return plain }
        var total: Int64 = 0
        var number: Int64?
        for byte in text.utf8 {
            if (0x30...0x39).contains(byte) {
                let (scaled, overflow) = (number ?? 0).multipliedReportingOverflow(by: 10)
                guard !overflow, scaled <= Int64(Int32.max) else { return nil }
                number = scaled + Int64(byte - 0x30)
                continue
            }
            guard let value = number else { return nil }
            let unit: Int64
            switch byte {
            case UInt8(ascii: "s"): unit = 1
            case UInt8(ascii: "m"): unit = 60
            case UInt8(ascii: "h"): unit = 3600
            case UInt8(ascii: "d"): unit = 86_400
            default: return nil
            }
            total += value * unit
            number = nil
        }
        guard number == nil, !text.isEmpty, total <= Int64(Int32.max) else { return nil }
        return total
    }

    /// `seconds` as Vault writes durations: `1h0m0s`, `45s`.
    static func text(_ seconds: Int64) -> String {
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(seconds % 60)s" }
        return "\(seconds / 3600)h\(seconds % 3600 / 60)m\(seconds % 60)s"
    }
}
