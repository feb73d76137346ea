import KBSClaims

/// Trustee's SNP evidence JSON (`SnpEvidence` in `deps/verifier/src/snp`): the virtee `sev` crate's serde form of
/// the report plus the extended-report certificate table,
/// `{"attestation_report":{…},"cert_chain":[{"cert_type":"VCEK","data":[…DER…]}]}`.
///
/// The signature covers the ABI bytes, so the report is packed back into the 1184-byte layout field by field
/// (reserved bytes zero) and verified as raw evidence. Every report field must be present with the right size.
struct SNPTrusteeEvidence: Sendable {
    /// The largest JSON accepted (real evidence is about 7 KiB plus a few certificates).
    static let maximumSize = 1 << 20

    /// The packed ATTESTATION_REPORT.
    var report: [UInt8]
    /// DER certificates of the certificate table, with their `cert_type` ("VCEK", "VLEK", "ASK", …).
    var certificates: [(type: String, der: [UInt8])]

    /// Whether `bytes` look like JSON (first non-space byte `{`).
    static func looksLikeJSON(_ bytes: [UInt8]) -> Bool {
        bytes.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D } == UInt8(ascii: "{")
    }

    init(_ bytes: [UInt8]) throws(EvidenceError) {
        guard bytes.count <= Self.maximumSize else {
            throw EvidenceError(.malformed, "SNP evidence JSON is \(bytes.count) bytes, more than \(Self.maximumSize)")
        }
        let root: JSONNode
        do { root = try JSONNode.parse(bytes) } catch {
            throw EvidenceError(.malformed, "SNP evidence JSON: \(error.message) at byte \(error.offset)")
        }
        guard case .object = root.value, let reportNode = root["attestation_report"], case .object = reportNode.value else {
            throw EvidenceError(.malformed, "SNP evidence JSON has no `attestation_report` object")
        }
        report = try Self.pack(reportNode)
        certificates = try Self.certificateTable(root["cert_chain"])
    }

    // MARK: packing

    private static func pack(_ node: JSONNode) throws(EvidenceError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: SNPReport.size)
        func put(_ bytes: [UInt8], at offset: Int) {
            for (index, byte) in bytes.enumerated() { out[offset + index] = byte }
        }
        func putInt(_ name: String, at offset: Int, size: Int) throws(EvidenceError) {
            put(littleEndian(try integer(node, name, bytes: size), size: size), at: offset)
        }
        func putBytes(_ name: String, at offset: Int, count: Int) throws(EvidenceError) {
            put(try byteArray(node, name, count: count), at: offset)
        }

        let version = try integer(node, "version", bytes: 4)
        try putInt("version", at: 0x00, size: 4)
        try putInt("guest_svn", at: 0x04, size: 4)
        try putInt("policy", at: 0x08, size: 8)
        try putBytes("family_id", at: 0x10, count: 16)
        try putBytes("image_id", at: 0x20, count: 16)
        try putInt("vmpl", at: 0x30, size: 4)
        try putInt("sig_algo", at: 0x34, size: 4)
        try putInt("plat_info", at: 0x40, size: 8)
        try putInt("key_info", at: 0x48, size: 4)
        try putBytes("report_data", at: 0x50, count: 64)
        try putBytes("measurement", at: 0x90, count: 48)
        try putBytes("host_data", at: 0xC0, count: 32)
        try putBytes("id_key_digest", at: 0xE0, count: 48)
        try putBytes("author_key_digest", at: 0x110, count: 48)
        try putBytes("report_id", at: 0x140, count: 32)
        try putBytes("report_id_ma", at: 0x160, count: 32)

        // CPUID exists from version 3 on; the sev crate writes null (or nothing) before that.
        var product: SNPProduct?
        if version >= 3 {
            let family = UInt8(try integer(node, "cpuid_fam_id", bytes: 1))
            let model = UInt8(try integer(node, "cpuid_mod_id", bytes: 1))
            let stepping = UInt8(try integer(node, "cpuid_step", bytes: 1))
            put([family, model, stepping], at: 0x188)
            product = SNPProduct(family: family, model: model)
        } else {
            for name in ["cpuid_fam_id", "cpuid_mod_id", "cpuid_step"] {
                if let value = node[name], try optionalInteger(value, name, bytes: 1) ?? 0 != 0 {
                    throw EvidenceError(.malformed, "SNP evidence JSON: version 2 report with non-zero `\(name)`")
                }
            }
        }
        // Turin packs its TCB differently; a report without CPUID is Milan or Genoa, which share a layout.
        let layout = product ?? .milan
        put(try tcb(node, "current_tcb", layout: layout), at: 0x38)
        put(try tcb(node, "reported_tcb", layout: layout), at: 0x180)
        try putBytes("chip_id", at: 0x1A0, count: 64)
        put(try tcb(node, "committed_tcb", layout: layout), at: 0x1E0)
        put(try firmware(node, "current"), at: 0x1E8)
        put(try firmware(node, "committed"), at: 0x1EC)
        put(try tcb(node, "launch_tcb", layout: layout), at: 0x1F0)
        for (name, offset) in [("launch_mit_vector", 0x1F8), ("current_mit_vector", 0x200)] {
            if let value = node[name], let vector = try optionalInteger(value, name, bytes: 8) {
                put(littleEndian(vector, size: 8), at: offset)
            }
        }
        guard let signature = node["signature"], case .object = signature.value else {
            throw EvidenceError(.malformed, "SNP evidence JSON: `attestation_report.signature` is missing")
        }
        put(try byteArray(signature, "r", count: 72), at: SNPReport.signatureROffset)
        put(try byteArray(signature, "s", count: 72), at: SNPReport.signatureSOffset)
        return out
    }

    private static func tcb(_ node: JSONNode, _ name: String, layout: SNPProduct) throws(EvidenceError) -> [UInt8] {
        guard let value = node[name], case .object = value.value else {
            throw EvidenceError(.malformed, "SNP evidence JSON: `\(name)` is missing or not an object")
        }
        let fmc = try value["fmc"].flatMap { (v) throws(EvidenceError) in try optionalInteger(v, "\(name).fmc", bytes: 1) }
        switch (layout, fmc) {
        case (.turin, nil): throw EvidenceError(.malformed, "SNP evidence JSON: Turin `\(name)` has no fmc")
        case (.milan, _?), (.genoa, _?): throw EvidenceError(.malformed, "SNP evidence JSON: `\(name)` has an fmc, report is not Turin")
        default: break
        }
        let value8 = { (field: String) throws(EvidenceError) -> UInt8 in UInt8(try integer(value, field, bytes: 1, path: name)) }
        let tcb = SNPTCB(
            bootloader: try value8("bootloader"), tee: try value8("tee"), snp: try value8("snp"),
            microcode: try value8("microcode"), fmc: fmc.map { UInt8($0) })
        return tcb.encoded(for: layout)
    }

    private static func firmware(_ node: JSONNode, _ name: String) throws(EvidenceError) -> [UInt8] {
        guard let value = node[name], case .object = value.value else {
            throw EvidenceError(.malformed, "SNP evidence JSON: `\(name)` is missing or not an object")
        }
        return [
            UInt8(try integer(value, "build", bytes: 1, path: name)), UInt8(try integer(value, "minor", bytes: 1, path: name)),
            UInt8(try integer(value, "major", bytes: 1, path: name)), 0,
        ]
    }

    private static func certificateTable(_ node: JSONNode?) throws(EvidenceError) -> [(type: String, der: [UInt8])] {
        guard let node else { return [] }
        switch node.value {
        case .null: return []
        case .array(let entries):
            guard entries.count <= 16 else { throw EvidenceError(.malformed, "SNP evidence JSON: more than 16 certificate table entries") }
            var result: [(type: String, der: [UInt8])] = []
            for entry in entries {
                guard case .object = entry.value, let data = entry["data"] else {
                    throw EvidenceError(.malformed, "SNP evidence JSON: certificate table entry without `data`")
                }
                // cert_type is "VCEK"/"VLEK"/"ASK"/"ARK"/"CRL", or an object naming an unknown GUID.
                let type = entry["cert_type"]?.stringValue ?? "OTHER"
                result.append((type, try bytes(data, "cert_chain.data", count: nil)))
            }
            return result
        default:
            throw EvidenceError(.malformed, "SNP evidence JSON: `cert_chain` is \(node.kindName), not an array")
        }
    }

    // MARK: values

    private static func littleEndian(_ value: UInt64, size: Int) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    private static func integer(_ node: JSONNode, _ name: String, bytes size: Int, path: String? = nil) throws(EvidenceError) -> UInt64 {
        let label = path.map { "\($0).\(name)" } ?? name
        guard let value = node[name] else { throw EvidenceError(.malformed, "SNP evidence JSON: `\(label)` is missing") }
        guard let result = try optionalInteger(value, label, bytes: size) else {
            throw EvidenceError(.malformed, "SNP evidence JSON: `\(label)` is null")
        }
        return result
    }

    /// A non-negative integer fitting `size` bytes; nil for JSON null.
    private static func optionalInteger(_ value: JSONNode, _ label: String, bytes size: Int) throws(EvidenceError) -> UInt64? {
        switch value.value {
        case .null: return nil
        case .number(let integer?, _) where integer >= 0:
            let result = UInt64(integer)
            guard size >= 8 || result < UInt64(1) << (8 * UInt64(size)) else {
                throw EvidenceError(.malformed, "SNP evidence JSON: `\(label)` = \(integer) does not fit \(size) bytes")
            }
            return result
        default:
            throw EvidenceError(.malformed, "SNP evidence JSON: `\(label)` is not a non-negative integer")
        }
    }

    private static func byteArray(_ node: JSONNode, _ name: String, count: Int) throws(EvidenceError) -> [UInt8] {
        guard let value = node[name] else { throw EvidenceError(.malformed, "SNP evidence JSON: `\(name)` is missing") }
        return try bytes(value, name, count: count)
    }

    /// An array of byte values (serde's `[u8; N]`) or a hex string; exactly `count` bytes when given.
    private static func bytes(_ value: JSONNode, _ label: String, count: Int?) throws(EvidenceError) -> [UInt8] {
        var result: [UInt8] = []
        switch value.value {
        case .array(let elements):
            guard elements.count <= 65536 else { throw EvidenceError(.malformed, "SNP evidence JSON: `\(label)` is too long") }
            result.reserveCapacity(elements.count)
            for element in elements {
                guard case .number(let byte?, _) = element.value, (0...255).contains(byte) else {
                    throw EvidenceError(.malformed, "SNP evidence JSON: `\(label)` holds something other than bytes")
                }
                result.append(UInt8(byte))
            }
        case .string(let text):
            guard let decoded = Hex.decode(text, prefix: .allowed) else {
                throw EvidenceError(.malformed, "SNP evidence JSON: `\(label)` is not hex")
            }
            result = decoded
        default:
            throw EvidenceError(.malformed, "SNP evidence JSON: `\(label)` is not a byte array")
        }
        if let count, result.count != count {
            throw EvidenceError(.malformed, "SNP evidence JSON: `\(label)` has \(result.count) bytes, expected \(count)")
        }
        return result
    }
}
