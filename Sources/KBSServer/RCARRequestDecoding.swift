package import KBSBroker
import KBSClaims

/// RCAR request bodies decoded into the broker's request types, with the protocol's refusals: a body that is not
/// JSON, the pre-0.4 shape, init-data (not supported yet), missing or mistyped members.
package enum RCARRequestDecoding {
    /// `{"version": "0.4.0", "tee": KIND, "extra-params": …}`.
    package static func auth(_ body: [UInt8]) throws(ServerError) -> AuthRequest {
        let root = try object(body)
        guard let version = root["version"]?.stringValue else { throw .badRequest("invalid_request", "`version` must be a string") }
        guard let tee = root["tee"]?.stringValue else { throw .badRequest("invalid_request", "`tee` must be a string") }
        return AuthRequest(version: version, tee: tee)
    }

    /// `{"runtime-data": {"nonce", "tee-pubkey"}, "tee-evidence": {"primary_evidence", "additional_evidence"?}, "init-data"?}`.
    package static func attest(_ body: [UInt8]) throws(ServerError) -> AttestRequest {
        let root = try object(body)
        if root["tee-pubkey"] != nil && root["runtime-data"] == nil {
            throw .badRequest(
                "protocol_version", "this is the pre-0.4 attestation shape; send `runtime-data` and `tee-evidence` (KBS protocol 0.4.0)")
        }
        if let initData = root["init-data"], initData.kind != .null {
            throw .badRequest("unsupported_init_data", "init-data binding is not supported by this server yet")
        }
        guard let runtime = root["runtime-data"], let nonce = runtime["nonce"]?.stringValue, let jwk = runtime["tee-pubkey"], jwk.kind == .object
        else { throw .badRequest("invalid_request", "`runtime-data` needs `nonce` (string) and `tee-pubkey` (a JWK object)") }
        guard let evidence = root["tee-evidence"], evidence.kind == .object, let primary = evidence["primary_evidence"] else {
            throw .badRequest("invalid_request", "`tee-evidence` needs `primary_evidence`")
        }
        let additional: String
        switch evidence["additional_evidence"]?.value {
        case nil, .null?: additional = ""
        case .string(let text)?: additional = text
        default: throw .badRequest("invalid_request", "`additional_evidence` must be a JSON string (a map of TEE to evidence, serialised)")
        }
        var devices: [(kind: String, evidence: [UInt8])] = []
        if !additional.isEmpty {
            let text = Array(additional.utf8)
            guard let map = try? JSONNode.parse(text), case .object(let members) = map.value else {
                throw .badRequest("invalid_request", "`additional_evidence` must hold a JSON object of TEE kind to evidence")
            }
            for member in members.sorted(by: { $0.key < $1.key }) {
                devices.append((member.key, try evidenceBytes(member.value, in: text)))
            }
        }
        return AttestRequest(
            nonce: nonce, teePublicKey: jwk, primaryEvidence: try evidenceBytes(primary, in: body), additionalEvidence: additional,
            devices: devices)
    }

    /// The evidence's bytes for its verifier, cut from the body as sent (re-serialising a parsed SNP report's byte
    /// arrays was most of an attestation's CPU); a string is its text.
    static func evidenceBytes(_ node: JSONNode, in body: [UInt8]) throws(ServerError) -> [UInt8] {
        switch node.value {
        case .string(let text): return Array(text.utf8)
        case .object, .array: return Array(body[node.range])
        default: throw .badRequest("invalid_request", "the evidence must be a JSON object, array or string")
        }
    }

    private static func object(_ body: [UInt8]) throws(ServerError) -> JSONNode {
        let root: JSONNode
        do { root = try JSONNode.parse(body) } catch { throw .badRequest("invalid_json", "the request body is not valid JSON") }
        guard root.kind == .object else { throw .badRequest("invalid_request", "the request body must be a JSON object") }
        return root
    }
}
