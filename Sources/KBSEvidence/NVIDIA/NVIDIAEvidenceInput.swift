import Foundation
import KBSClaims

/// One device's evidence as it arrived: the SPDM report and, where the input format carries it, the device chain and
/// the nonce the caller expected.
struct NVIDIADeviceEvidence {
    var arch: String?
    var uuid: String?
    var report: [UInt8]
    /// The chain carried beside the report (JSON inputs); nil when it comes from the endorsements.
    var chain: [Certificate]?
    /// The `nonce` member of NVIDIA SDK evidence: the nonce that device was asked to sign.
    var expectedNonce: [UInt8]?
}

/// The evidence formats the NVIDIA verifier accepts, recognised by content.
///
/// - Trustee's JSON `{"device_evidence_list": [{"arch", "uuid", "evidence", "certificate"}]}` (what a key broker
///   receives as tee-evidence): `evidence` is the report in hex or base64, `certificate` the base64 of the PEM chain.
/// - NVIDIA SDK JSON `[{"arch", "certificate", "evidence", "nonce"}]` (nvtrust / attestation-sdk evidence files).
/// - A bare report: hex text or binary, with its PEM chain among the endorsements.
enum NVIDIAEvidenceInput {
    static let maximumSize = 16 << 20
    static let maximumDevices = 64

    static func devices(_ bytes: [UInt8]) throws(EvidenceError) -> [NVIDIADeviceEvidence] {
        guard !bytes.isEmpty else { throw EvidenceError(.malformed, "NVIDIA evidence is empty") }
        guard bytes.count <= maximumSize else { throw EvidenceError(.malformed, "NVIDIA evidence is larger than \(maximumSize) bytes") }
        let first = bytes.first { !isSpace($0) }
        switch first {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            return try json(bytes)
        default:
            if bytes.count >= 2, bytes[0] == 0x11, bytes[1] == 0xE0 { return [NVIDIADeviceEvidence(report: bytes)] }
            let text = String(decoding: bytes.filter { !isSpace($0) }, as: UTF8.self)
            guard let report = Hex.decode(text, prefix: .allowed), !report.isEmpty else {
                throw EvidenceError(.malformed, "NVIDIA evidence is neither JSON, hex text nor a binary SPDM report")
            }
            return [NVIDIADeviceEvidence(report: report)]
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }

    private static func json(_ bytes: [UInt8]) throws(EvidenceError) -> [NVIDIADeviceEvidence] {
        let root: JSONNode
        do { root = try JSONNode.parse(bytes) } catch { throw EvidenceError(.malformed, "NVIDIA evidence JSON: \(error)") }
        let entries: [JSONNode]
        if case .array(let list) = root.value {
            entries = list
        } else if case .array(let list)? = root["device_evidence_list"]?.value {
            entries = list
        } else {
            throw EvidenceError(.malformed, "NVIDIA evidence JSON is neither a device list nor {\"device_evidence_list\": […]}")
        }
        guard !entries.isEmpty else { throw EvidenceError(.malformed, "NVIDIA evidence JSON lists no device") }
        guard entries.count <= maximumDevices else {
            throw EvidenceError(.malformed, "NVIDIA evidence JSON lists \(entries.count) devices, more than \(maximumDevices)")
        }
        var result: [NVIDIADeviceEvidence] = []
        for (position, entry) in entries.enumerated() {
            let what = "device \(position)"
            guard let evidence = entry["evidence"]?.stringValue, let certificate = entry["certificate"]?.stringValue else {
                throw EvidenceError(.malformed, "\(what): needs string members `evidence` and `certificate`")
            }
            var device = NVIDIADeviceEvidence(
                arch: entry["arch"]?.stringValue, uuid: entry["uuid"]?.stringValue, report: try report(evidence, what: what))
            device.chain = try chain(certificate, what: what)
            if let nonce = entry["nonce"]?.stringValue {
                guard let decoded = Hex.decode(nonce, prefix: .allowed), decoded.count == 32 else {
                    throw EvidenceError(.malformed, "\(what): `nonce` is not 32 bytes of hex")
                }
                device.expectedNonce = decoded
            }
            result.append(device)
        }
        return result
    }

    /// A report in hex (what Trustee's attester may send) or base64 (the SDKs).
    private static func report(_ text: String, what: String) throws(EvidenceError) -> [UInt8] {
        if let hex = Hex.decode(text, prefix: .allowed), hex.count >= 2, hex[0] == 0x11, hex[1] == 0xE0 { return hex }
        guard let data = Data(base64Encoded: text), !data.isEmpty else {
            throw EvidenceError(.malformed, "\(what): `evidence` is neither hex nor base64")
        }
        return Array(data)
    }

    /// The device chain: base64 of PEM text (both SDKs and Trustee), or PEM text itself.
    private static func chain(_ text: String, what: String) throws(EvidenceError) -> [Certificate] {
        let pem: [UInt8]
        if text.contains("-----BEGIN ") {
            pem = Array(text.utf8)
        } else if let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters), !data.isEmpty {
            pem = Array(data)
        } else {
            throw EvidenceError(.malformed, "\(what): `certificate` is neither PEM nor base64")
        }
        return try Certificate.parseAll(pem)
    }
}
