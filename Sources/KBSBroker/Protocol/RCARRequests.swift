package import KBSClaims

/// RCAR `auth` as the transport decoded it: `{"version", "tee", "extra-params"}`.
package struct AuthRequest: Sendable {
    /// The protocol version the client speaks; this broker speaks 0.4.0.
    package var version: String
    /// The TEE kind whose evidence will follow (`snp`, `tdx`, …).
    package var tee: String
    /// The client's address as the transport saw it: sessions are counted and evicted per client.
    package var client: String

    /// Creates a request.
    package init(version: String, tee: String, client: String = "") {
        self.version = version
        self.tee = tee
        self.client = client
    }
}

/// RCAR `attest` as the transport decoded it: the runtime data the evidence binds, and the evidence.
package struct AttestRequest: Sendable {
    /// `runtime-data.nonce`: the session's nonce.
    package var nonce: String
    /// `runtime-data.tee-pubkey`: the JWK as parsed, every member kept, since the binding hashes all of it.
    package var teePublicKey: JSONNode
    /// `tee-evidence.primary_evidence`: its JSON bytes as sent, or a string's text (a base64 quote, say).
    package var primaryEvidence: [UInt8]
    /// `tee-evidence.additional_evidence`: a JSON object of TEE kind to evidence, serialised as the client sent it
    /// (the binding hashes this text); empty for none.
    package var additionalEvidence: String
    /// The devices in `additionalEvidence` (a GPU beside the CPU), each with its evidence bytes as sent, by kind name.
    package var devices: [(kind: String, evidence: [UInt8])]

    /// Creates a request.
    package init(
        nonce: String, teePublicKey: JSONNode, primaryEvidence: [UInt8], additionalEvidence: String = "",
        devices: [(kind: String, evidence: [UInt8])] = []
    ) {
        self.nonce = nonce
        self.teePublicKey = teePublicKey
        self.primaryEvidence = primaryEvidence
        self.additionalEvidence = additionalEvidence
        self.devices = devices
    }
}
