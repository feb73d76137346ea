import Crypto
import KBSClaims

/// A COSE_Sign1 message (RFC 9052 §4.2): `[protected bstr, unprotected map, payload bstr, signature bstr]`, tag 18.
struct COSESign1 {
    /// The ECDSA algorithms COSE names for NIST curves (RFC 9053 §2.1), each fixed to its curve and hash.
    enum Algorithm: Int64, Sendable {
        case es256 = -7
        case es384 = -35
        case es512 = -36

        /// The JOSE/COSE name.
        var name: String {
            switch self {
            case .es256: "ES256"
            case .es384: "ES384"
            case .es512: "ES512"
            }
        }

        /// The bytes of one of `r` and `s`.
        var fieldSize: Int {
            switch self {
            case .es256: 32
            case .es384: 48
            case .es512: 66
            }
        }
    }

    /// The protected header exactly as carried (the signature covers these bytes).
    let protected: [UInt8]
    let payload: [UInt8]
    /// Raw `r ‖ s`.
    let signature: [UInt8]
    /// The `alg` (label 1) of the protected header.
    let algorithm: Algorithm

    /// Parses tagged COSE_Sign1 bytes; `what` names it in messages ("platform token").
    init(_ bytes: [UInt8], what: String) throws(EvidenceError) {
        let item = try CBORDecoder.decode(bytes, what: what)
        guard case .tagged(18, let inner) = item else {
            throw EvidenceError(.malformed, "\(what) is \(item.typeName), not a COSE_Sign1 (tag 18)")
        }
        guard case .array(let parts) = inner, parts.count == 4 else {
            throw EvidenceError(.malformed, "\(what) COSE_Sign1 is not an array of 4")
        }
        guard case .bytes(let protected) = parts[0], case .map = parts[1], case .bytes(let signature) = parts[3] else {
            throw EvidenceError(.malformed, "\(what) COSE_Sign1 members have the wrong types")
        }
        guard case .bytes(let payload) = parts[2] else {
            throw EvidenceError(.unsupported, "\(what) COSE_Sign1 has a detached or non-byte-string payload")
        }
        // An empty protected header would carry no alg, which this verifier requires there.
        let header = try CBORDecoder.decode(protected, what: "\(what) protected header")
        guard case .map(let entries) = header else {
            throw EvidenceError(.malformed, "\(what) protected header is \(header.typeName), not a map")
        }
        if entries.contains(where: { $0.key.integer == 2 }) {
            // RFC 9052 §3.1: a recipient must refuse critical headers it does not understand; it understands none.
            throw EvidenceError(.unsupported, "\(what) protected header lists critical parameters")
        }
        guard let label = header[1] else {
            throw EvidenceError(.malformed, "\(what) protected header has no alg")
        }
        guard let number = label.integer, let algorithm = Algorithm(rawValue: number) else {
            throw EvidenceError(.unsupported, "\(what) is signed with COSE alg \(label), not ES256/ES384/ES512")
        }
        guard signature.count == 2 * algorithm.fieldSize else {
            throw EvidenceError(
                .malformed, "\(what) \(algorithm.name) signature is \(signature.count) bytes, not \(2 * algorithm.fieldSize)")
        }
        self.protected = protected
        self.payload = payload
        self.signature = signature
        self.algorithm = algorithm
    }

    /// `Sig_structure = ["Signature1", protected, external_aad = h'', payload]`, canonically encoded: the bytes signed.
    var toBeSigned: [UInt8] {
        CBOREncoder.head(4, 4) + CBOREncoder.text("Signature1") + CBOREncoder.bytes(protected) + CBOREncoder.bytes([])
            + CBOREncoder.bytes(payload)
    }

    /// Whether the signature verifies under `key`; a key on another curve than the algorithm's never does.
    func isSigned(by key: COSEPublicKey) -> Bool {
        let message = toBeSigned
        switch (algorithm, key) {
        case (.es256, .p256(let key)):
            guard let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: message)
        case (.es384, .p384(let key)):
            guard let parsed = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: message)
        case (.es512, .p521(let key)):
            guard let parsed = try? P521.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: message)
        default:
            return false
        }
    }
}

/// An EC public key on a NIST curve, validated on construction (swift-crypto refuses points off the curve).
enum COSEPublicKey: Sendable {
    case p256(P256.Signing.PublicKey)
    case p384(P384.Signing.PublicKey)
    case p521(P521.Signing.PublicKey)

    /// The curve's JOSE name.
    var curveName: String {
        switch self {
        case .p256: "P-256"
        case .p384: "P-384"
        case .p521: "P-521"
        }
    }

    /// The uncompressed point `04 ‖ x ‖ y`.
    var x963: [UInt8] {
        switch self {
        case .p256(let key): Array(key.x963Representation)
        case .p384(let key): Array(key.x963Representation)
        case .p521(let key): Array(key.x963Representation)
        }
    }

    /// The key from affine coordinates on the curve named as JOSE does (`P-256`, `P-384`, `P-521`); nil when the
    /// coordinates have the wrong size or the point is not on the curve.
    init?(curve: String, x: [UInt8], y: [UInt8]) {
        let point = [0x04] + x + y
        switch (curve, x.count, y.count) {
        case ("P-256", 32, 32):
            guard let key = try? P256.Signing.PublicKey(x963Representation: point) else { return nil }
            self = .p256(key)
        case ("P-384", 48, 48):
            guard let key = try? P384.Signing.PublicKey(x963Representation: point) else { return nil }
            self = .p384(key)
        case ("P-521", 66, 66):
            guard let key = try? P521.Signing.PublicKey(x963Representation: point) else { return nil }
            self = .p521(key)
        default: return nil
        }
    }

    /// The key in a DER SubjectPublicKeyInfo of any of the three curves; nil otherwise.
    init?(spki der: [UInt8]) {
        if let key = try? P256.Signing.PublicKey(derRepresentation: der) {
            self = .p256(key)
        } else if let key = try? P384.Signing.PublicKey(derRepresentation: der) {
            self = .p384(key)
        } else if let key = try? P521.Signing.PublicKey(derRepresentation: der) {
            self = .p521(key)
        } else {
            return nil
        }
    }
}
