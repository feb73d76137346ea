import KBSClaims

/// Reading snarkjs's JSON: every number a decimal string, G1 points `[x, y, "1"]`, G2 points
/// `[[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]]` (the coefficient of 1 first, then that of u).
enum SnarkJSFormat {
    /// Largest document read, in bytes (a key with a thousand public inputs is about 150 KiB).
    static let maximumBytes = 1 << 20

    static func document(_ bytes: [UInt8], _ what: String) throws(ZKError) -> JSONNode {
        guard bytes.count <= maximumBytes else { throw ZKError(.malformed, "\(what) is over \(maximumBytes) bytes") }
        do { return try JSONNode.parse(bytes) } catch { throw ZKError(.malformed, "\(what) is not JSON: \(error.message)") }
    }

    static func array(_ node: JSONNode?, _ what: String, count: Int? = nil) throws(ZKError) -> [JSONNode] {
        guard case .array(let items)? = node?.value else { throw ZKError(.malformed, "`\(what)` must be an array") }
        if let count, items.count != count { throw ZKError(.malformed, "`\(what)` must hold \(count) elements") }
        return items
    }

    /// A decimal string as an integer (< 2²⁵⁶; the caller checks its range).
    static func integer(_ node: JSONNode, _ what: String) throws(ZKError) -> UInt256 {
        guard let text = node.stringValue, let value = UInt256(decimal: text) else {
            throw ZKError(.malformed, "`\(what)` must be a decimal string")
        }
        return value
    }

    static func fp(_ node: JSONNode, _ what: String) throws(ZKError) -> Fp {
        guard let value = Fp(try integer(node, what)) else { throw ZKError(.invalidPoint, "`\(what)` is not below the field's modulus") }
        return value
    }

    /// A G1 point in affine form with z = "1"; the point at infinity is refused.
    static func g1(_ node: JSONNode?, _ what: String) throws(ZKError) -> G1 {
        let items = try array(node, what, count: 3)
        guard items[2].stringValue == "1" else { throw ZKError(.invalidPoint, "`\(what)` must be affine (z = \"1\"), not the point at infinity") }
        let point = G1(x: try fp(items[0], what), y: try fp(items[1], what))
        guard point.isOnCurve else { throw ZKError(.invalidPoint, "`\(what)` is not on BN254") }
        return point
    }

    /// A G2 point in affine form with z = ["1", "0"], on the twist and in the order-r subgroup.
    static func g2(_ node: JSONNode?, _ what: String) throws(ZKError) -> G2 {
        let items = try array(node, what, count: 3)
        let z = try array(items[2], what + "[2]", count: 2)
        guard z[0].stringValue == "1", z[1].stringValue == "0" else {
            throw ZKError(.invalidPoint, "`\(what)` must be affine (z = [\"1\", \"0\"]), not the point at infinity")
        }
        let x = try array(items[0], what + "[0]", count: 2)
        let y = try array(items[1], what + "[1]", count: 2)
        let point = G2(
            x: Fp2(c0: try fp(x[0], what), c1: try fp(x[1], what)), y: Fp2(c0: try fp(y[0], what), c1: try fp(y[1], what)))
        guard BN254.inSubgroup(point) else { throw ZKError(.invalidPoint, "`\(what)` is not in BN254's G2 subgroup") }
        return point
    }

    /// `protocol` and `curve`, when present, must name Groth16 on BN254.
    static func requireGroth16(_ root: JSONNode, _ what: String) throws(ZKError) {
        if let name = root["protocol"], name.stringValue != "groth16" {
            throw ZKError(.unsupported, "\(what) is for `\(name.stringValue ?? "?")`, not groth16")
        }
        if let curve = root["curve"], curve.stringValue != "bn128" && curve.stringValue != "bn254" {
            throw ZKError(.unsupported, "\(what) is on `\(curve.stringValue ?? "?")`, not bn128 (BN254)")
        }
    }
}
