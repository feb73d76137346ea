import KBSClaims

/// Trustee's TDX evidence JSON (`TdxEvidence` in its TDX verifier): `{"quote": "<base64 quote>", "cc_eventlog":
/// "<base64 CC event log>"}`, which Trustee's attestation agent sends over RCAR where other clients send the raw quote.
///
/// The quote is verified exactly as a raw one. An event log that came with it joins the endorsements, where it is
/// recognised by content and replayed against the RTMRs like one handed over beside the evidence; it adds nothing
/// the quote's signature does not then check.
struct TDXTrusteeEvidence: Sendable {
    /// The largest JSON accepted: a quote is about 5 KiB, an event log tens of KiB.
    static let maximumSize = 4 << 20

    var quote: [UInt8]
    var eventLog: [UInt8]?

    init(_ bytes: [UInt8]) throws(EvidenceError) {
        guard bytes.count <= Self.maximumSize else {
            throw EvidenceError(.malformed, "TDX evidence JSON is \(bytes.count) bytes, more than \(Self.maximumSize)")
        }
        let root: JSONNode
        do { root = try JSONNode.parse(bytes) } catch {
            throw EvidenceError(.malformed, "TDX evidence JSON: \(error.message) at byte \(error.offset)")
        }
        guard case .object = root.value else { throw EvidenceError(.malformed, "TDX evidence JSON is not an object") }
        guard let text = root["quote"]?.stringValue, let quote = Base64URL.decodeStandard(Array(text.utf8)), !quote.isEmpty else {
            throw EvidenceError(.malformed, "TDX evidence JSON has no base64 `quote`")
        }
        self.quote = quote
        switch root["cc_eventlog"]?.value {
        case nil, .null?: eventLog = nil
        case .string(let log)?:
            guard let decoded = Base64URL.decodeStandard(Array(log.utf8)) else {
                throw EvidenceError(.malformed, "TDX evidence JSON: `cc_eventlog` is not base64")
            }
            eventLog = decoded
        default: throw EvidenceError(.malformed, "TDX evidence JSON: `cc_eventlog` must be a base64 string or null")
        }
    }
}
