import KBSClaims

/// The CCA platform attestation keys (CPAKs) a deployment trusts, read from the context's trust-anchor files.
///
/// CCA has no vendor PKI: the platform vendor hands out CPAKs, keyed by the platform's implementation and instance
/// ids. Files are recognised by content:
///
/// * a JSON array of `{"pkey": <JWK | PEM SPKI text | hex point>, "implementation-id": <hex>, "instance-id": <hex>}`
///   (Veraison's and Trustee's store); ids may also be base64. Such a key is used only for a token whose ids match.
/// * a JSON object that is itself an EC JWK (`{"kty": "EC", "crv", "x", "y"}`, like rust-ccatoken's `cpak.json`),
/// * PEM `PUBLIC KEY` blocks (SubjectPublicKeyInfo, like TF-RMM's `cca_platform.pub`).
///
/// The last two carry no ids: they pin only the key and match a token with any implementation or instance id.
/// Other files (certificates, other kinds' anchors) are ignored. An entry that does not parse, or a point that is
/// not on its curve, makes the whole store a `configuration` error rather than being skipped silently.
struct CCATrustAnchors {
    struct Anchor {
        /// Where it came from, for messages.
        var source: String
        var key: COSEPublicKey
        /// Nil for a key-only anchor.
        var implementationID: [UInt8]?
        var instanceID: [UInt8]?

        /// Whether this anchor may vouch for a platform with these ids.
        func matches(implementationID: [UInt8], instanceID: [UInt8]) -> Bool {
            if let expected = self.implementationID, expected != implementationID { return false }
            if let expected = self.instanceID, expected != instanceID { return false }
            return true
        }

        var isKeyOnly: Bool { implementationID == nil && instanceID == nil }
    }

    private(set) var anchors: [Anchor] = []

    /// Reads every CCA anchor in `files`.
    init(_ files: [EvidenceFile]) throws(EvidenceError) {
        for file in files { try read(file) }
    }

    /// The anchors that may vouch for a platform with these ids.
    func candidates(implementationID: [UInt8], instanceID: [UInt8]) -> [Anchor] {
        anchors.filter { $0.matches(implementationID: implementationID, instanceID: instanceID) }
    }

    private mutating func read(_ file: EvidenceFile) throws(EvidenceError) {
        if PEM.looksLikePEM(file.bytes) {
            guard let blocks = PEM.blocks(file.bytes) else {
                throw EvidenceError(.configuration, "trust anchor \(file.name) is not valid PEM")
            }
            for block in blocks where block.label == "PUBLIC KEY" {
                guard let key = COSEPublicKey(spki: block.der) else {
                    throw EvidenceError(.configuration, "trust anchor \(file.name) holds a public key that is not EC P-256/P-384/P-521")
                }
                anchors.append(Anchor(source: file.name, key: key))
            }
            return
        }
        guard let first = file.bytes.first(where: { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }),
            first == UInt8(ascii: "[") || first == UInt8(ascii: "{")
        else { return }
        let json: JSONNode
        do { json = try JSONNode.parse(Self.withoutBOM(file.bytes)) } catch {
            throw EvidenceError(.configuration, "trust anchor \(file.name) is not valid JSON: \(error.message)")
        }
        switch json.value {
        case .array(let entries):
            for (index, entry) in entries.enumerated() {
                try anchors.append(Self.entry(entry, source: "\(file.name)[\(index)]"))
            }
        case .object:
            // A bare JWK is a key-only anchor; any other object is some other kind's file.
            guard json["kty"] != nil else { return }
            anchors.append(Anchor(source: file.name, key: try Self.jwk(json, source: file.name)))
        default:
            return
        }
    }

    private static func withoutBOM(_ bytes: [UInt8]) -> [UInt8] {
        bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
    }

    private static func entry(_ node: JSONNode, source: String) throws(EvidenceError) -> Anchor {
        guard case .object = node.value, let pkey = node["pkey"] else {
            throw EvidenceError(.configuration, "trust anchor \(source) is not an object with a `pkey`")
        }
        let key: COSEPublicKey
        switch pkey.value {
        case .object: key = try jwk(pkey, source: source)
        case .string(let text): key = try textKey(text, source: source)
        default: throw EvidenceError(.configuration, "trust anchor \(source) `pkey` is \(pkey.kindName)")
        }
        let implementation = try identifier(node["implementation-id"], name: "implementation-id", source: source)
        let instance = try identifier(node["instance-id"], name: "instance-id", source: source)
        // An array entry without ids would silently become a key-only anchor; stores name at least the instance.
        guard instance != nil || implementation != nil else {
            throw EvidenceError(.configuration, "trust anchor \(source) names neither implementation-id nor instance-id")
        }
        return Anchor(source: source, key: key, implementationID: implementation, instanceID: instance)
    }

    /// A JWK `{"kty": "EC", "crv": "P-256"|"P-384"|"P-521", "x": b64url, "y": b64url}`.
    static func jwk(_ node: JSONNode, source: String) throws(EvidenceError) -> COSEPublicKey {
        guard node["kty"]?.stringValue == "EC", let curve = node["crv"]?.stringValue,
            let x = node["x"]?.stringValue.flatMap(Base64URL.decodeLenient), let y = node["y"]?.stringValue.flatMap(Base64URL.decodeLenient)
        else {
            throw EvidenceError(.configuration, "trust anchor \(source) is not an EC JWK with crv, x and y")
        }
        guard let key = COSEPublicKey(curve: curve, x: x, y: y) else {
            throw EvidenceError(.configuration, "trust anchor \(source) is not a valid \(curve) point (wrong size or not on the curve)")
        }
        return key
    }

    /// `pkey` as text: PEM SubjectPublicKeyInfo (older Veraison stores) or a hex uncompressed point.
    private static func textKey(_ text: String, source: String) throws(EvidenceError) -> COSEPublicKey {
        let bytes = Array(text.utf8)
        if PEM.looksLikePEM(bytes) {
            guard let block = PEM.blocks(bytes)?.first(where: { $0.label == "PUBLIC KEY" }), let key = COSEPublicKey(spki: block.der) else {
                throw EvidenceError(.configuration, "trust anchor \(source) `pkey` is not an EC PEM public key")
            }
            return key
        }
        if let point = Hex.decode(text, prefix: .allowed), point.count >= 65, point.first == 0x04, point.count % 2 == 1 {
            let size = point.count / 2
            let curve = size == 32 ? "P-256" : size == 48 ? "P-384" : "P-521"
            if let key = COSEPublicKey(curve: curve, x: Array(point[1...size]), y: Array(point[(size + 1)...])) { return key }
        }
        throw EvidenceError(.configuration, "trust anchor \(source) `pkey` is neither PEM nor a valid hex EC point")
    }

    /// An id as hex (what Veraison and Trustee write), else as base64 / base64url.
    private static func identifier(_ node: JSONNode?, name: String, source: String) throws(EvidenceError) -> [UInt8]? {
        guard let node else { return nil }
        guard let text = node.stringValue, let bytes = Hex.decode(text, prefix: .allowed) ?? Base64URL.decodeLenient(text), !bytes.isEmpty else {
            throw EvidenceError(.configuration, "trust anchor \(source) `\(name)` is neither hex nor base64")
        }
        return bytes
    }
}
