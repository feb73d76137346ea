import Foundation
import KBSClaims
import Testing

@testable import KBSZK

/// Groth16 verification against proofs and keys snarkjs produced (Fixtures/zk, see Fixtures/SOURCES.md), and the
/// refusals: a changed signal, a changed proof point, points off the curve or outside the subgroup, bad shapes.
@Suite struct Groth16Tests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/zk").path

    struct Case {
        var key: [UInt8]
        var proof: [UInt8]
        var signals: [UInt8]

        init(_ name: String) throws {
            func read(_ file: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: "\(Groth16Tests.root)/\(name)/\(file)"))) }
            key = try read("verification_key.json")
            proof = try read("proof.json")
            signals = try read("public.json")
        }
    }

    static func reason(_ body: () throws -> Void) -> ZKErrorReason? {
        do {
            try body()
            return nil
        } catch let error as ZKError { return error.reason } catch { return nil }
    }

    /// The JSON with one string replaced.
    static func replacing(_ bytes: [UInt8], _ old: String, _ new: String) -> [UInt8] {
        Array(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: old, with: new).utf8)
    }

    @Test("snarkjs proofs verify", arguments: ["safeposeidon", "zkchess"])
    func verifies(name: String) throws {
        let fixture = try Case(name)
        let key = try Groth16VerificationKey(snarkjs: fixture.key)
        let signals = try Groth16.publicSignals(snarkjs: fixture.signals)
        try Groth16.verify(try Groth16Proof(snarkjs: fixture.proof), signals: signals, key: key)
    }

    @Test("e(α, β) matches snarkjs's vk_alphabeta_12, coefficient by coefficient", arguments: ["safeposeidon", "zkchess"])
    func alphaBeta(name: String) throws {
        let fixture = try Case(name)
        let key = try Groth16VerificationKey(snarkjs: fixture.key)
        let root = try JSONNode.parse(fixture.key)
        func fp(_ node: JSONNode) throws -> Fp { try #require(node.stringValue.flatMap(UInt256.init(decimal:)).flatMap(Fp.init)) }
        func fp2(_ node: JSONNode) throws -> Fp2 {
            guard case .array(let items) = node.value else { throw ZKError(.malformed, "fp2") }
            return Fp2(c0: try fp(items[0]), c1: try fp(items[1]))
        }
        func fp6(_ node: JSONNode) throws -> Fp6 {
            guard case .array(let items) = node.value else { throw ZKError(.malformed, "fp6") }
            return Fp6(c0: try fp2(items[0]), c1: try fp2(items[1]), c2: try fp2(items[2]))
        }
        guard case .array(let halves)? = root["vk_alphabeta_12"]?.value else { throw ZKError(.malformed, "vk_alphabeta_12") }
        let theirs = Fp12(c0: try fp6(halves[0]), c1: try fp6(halves[1]))
        // snarkjs (ffjavascript) finishes its final exponentiation with Fuentes-Castañeda et al.'s addition chain,
        // which raises the reduced pairing to the fixed power 2u(6u² + 3u + 1); both pairings check Groth16 alike.
        let fuentesCastaneda: [UInt64] = [0x2e5d_4e22_3dde_daf4, 0x1ea9_6b02_d9d9_e38d, 0x3bec_47df_15e3_07c8]
        #expect(key.alphaBeta.power(limbs: fuentesCastaneda) == theirs)
        #expect(key.alphaBeta != theirs)
    }

    @Test("a changed public signal, a wrong count or a signal outside the field is refused")
    func signals() throws {
        let fixture = try Case("zkchess")
        let key = try Groth16VerificationKey(snarkjs: fixture.key)
        let proof = try Groth16Proof(snarkjs: fixture.proof)
        var signals = try Groth16.publicSignals(snarkjs: fixture.signals)
        signals[1] = "105"
        #expect(Self.reason { try Groth16.verify(proof, signals: signals, key: key) } == .proof)
        signals[1] = "104"
        signals[10] = "1"
        #expect(Self.reason { try Groth16.verify(proof, signals: signals, key: key) } == .proof)
        #expect(Self.reason { try Groth16.verify(proof, signals: Array(signals.dropLast()), key: key) } == .signalCount)
        let order = BN254.order.decimal
        #expect(Self.reason { _ = try Groth16.publicSignals(snarkjs: Array("[\"\(order)\"]".utf8)) } == .invalidPoint)
        #expect(Self.reason { _ = try Groth16.publicSignals(snarkjs: Array("[104]".utf8)) } == .malformed)
        #expect(Self.reason { _ = try Groth16.publicSignals(snarkjs: Array("[\"-1\"]".utf8)) } == .malformed)
        #expect(Self.reason { _ = try Groth16.publicSignals(snarkjs: Array("[\"0104\"]".utf8)) } == .malformed)
    }

    @Test("a changed proof point is refused: another valid point fails the equation, an edited one is off the curve")
    func points() throws {
        let fixture = try Case("safeposeidon")
        let key = try Groth16VerificationKey(snarkjs: fixture.key)
        let signals = try Groth16.publicSignals(snarkjs: fixture.signals)
        let root = try JSONNode.parse(fixture.proof)
        // pi_c moved into pi_a's place: both on the curve, the equation fails.
        guard case .array(let a)? = root["pi_a"]?.value, case .array(let c)? = root["pi_c"]?.value,
            let ax = a[0].stringValue, let ay = a[1].stringValue, let cx = c[0].stringValue, let cy = c[1].stringValue
        else { throw ZKError(.malformed, "fixture") }
        let swapped = Self.replacing(Self.replacing(fixture.proof, ax, cx), ay, cy)
        #expect(Self.reason { try Groth16.verify(try Groth16Proof(snarkjs: swapped), signals: signals, key: key) } == .proof)
        // One digit of A's x changed: off the curve.
        let last = ax.last == "1" ? "2" : "1"
        let edited = Self.replacing(fixture.proof, ax, String(ax.dropLast()) + last)
        #expect(Self.reason { _ = try Groth16Proof(snarkjs: edited) } == .invalidPoint)
        // A coordinate at or above p.
        let overflow = Self.replacing(fixture.proof, ax, Fp.modulus.decimal)
        #expect(Self.reason { _ = try Groth16Proof(snarkjs: overflow) } == .invalidPoint)
        // The point at infinity, and the negated A (a valid point, a different proof).
        #expect(
            Self.reason { _ = try Groth16Proof(snarkjs: Self.replacing(fixture.proof, "\"1\"\n ],\n \"pi_b\"", "\"0\"\n ],\n \"pi_b\"")) }
                == .invalidPoint)
        let negatedY = (-(try #require(UInt256(decimal: ay).flatMap(Fp.init)))).integer.decimal
        let negated = Self.replacing(fixture.proof, ay, negatedY)
        #expect(Self.reason { try Groth16.verify(try Groth16Proof(snarkjs: negated), signals: signals, key: key) } == .proof)
    }

    @Test("a G2 point on the twist but outside the order-r subgroup is refused")
    func subgroup() throws {
        let point = try #require(Self.twistPointOutsideSubgroup())
        #expect(point.isOnCurve)
        #expect(!BN254.inSubgroup(point))
        let fixture = try Case("safeposeidon")
        let root = try JSONNode.parse(fixture.proof)
        guard case .array(let b)? = root["pi_b"]?.value, case .array(let x) = b[0].value, case .array(let y) = b[1].value,
            let x0 = x[0].stringValue, let x1 = x[1].stringValue, let y0 = y[0].stringValue, let y1 = y[1].stringValue
        else { throw ZKError(.malformed, "fixture") }
        var edited = fixture.proof
        for (old, new) in [(x0, point.x.c0), (x1, point.x.c1), (y0, point.y.c0), (y1, point.y.c1)] {
            edited = Self.replacing(edited, old, new.integer.decimal)
        }
        #expect(Self.reason { _ = try Groth16Proof(snarkjs: edited) } == .invalidPoint)
    }

    @Test("shapes: not JSON, another protocol or curve, a key whose nPublic disagrees")
    func shapes() throws {
        let fixture = try Case("safeposeidon")
        #expect(Self.reason { _ = try Groth16Proof(snarkjs: Array("{".utf8)) } == .malformed)
        #expect(Self.reason { _ = try Groth16Proof(snarkjs: Self.replacing(fixture.proof, "\"groth16\"", "\"plonk\"")) } == .unsupported)
        #expect(Self.reason { _ = try Groth16Proof(snarkjs: Self.replacing(fixture.proof, "\"bn128\"", "\"bls12381\"")) } == .unsupported)
        #expect(
            Self.reason { _ = try Groth16VerificationKey(snarkjs: Self.replacing(fixture.key, "\"nPublic\": 1", "\"nPublic\": 2")) } == .malformed)
        #expect(Self.reason { _ = try Groth16Proof(snarkjs: Array("{\"pi_a\": [\"1\", \"2\"]}".utf8)) } == .malformed)
    }

    /// A point of the twist outside G2: x = 1, 2, … until x³ + b' is a square in 𝔽p² (then the point is on the twist,
    /// and almost surely not in the order-r subgroup, whose cofactor is about p).
    static func twistPointOutsideSubgroup() -> G2? {
        for candidate in 1..<64 {
            let x = Fp2(c0: Fp(small: UInt64(candidate)), c1: .one)
            guard let y = squareRoot(x.squared * x + G2Curve.b) else { continue }
            let point = G2(x: x, y: y)
            if !BN254.inSubgroup(point) { return point }
        }
        return nil
    }

    /// A square root in 𝔽p² for p ≡ 3 mod 4 (Adj and Rodríguez-Henríquez, algorithm 9), or nil.
    static func squareRoot(_ a: Fp2) -> Fp2? {
        let p = Fp.modulus
        let pMinus3Over4 = shiftRight(p.subtracting(UInt256(3)).0, 2)
        let pMinus1Over2 = shiftRight(p.subtracting(UInt256(1)).0, 1)
        let a1 = a.power(pMinus3Over4)
        let alpha = a1.squared * a
        let a0 = alpha.conjugate * alpha
        let minusOne = -Fp2.one
        if a0 == minusOne { return nil }
        let x0 = a1 * a
        let root = alpha == minusOne ? Fp2(c0: .zero, c1: .one) * x0 : (Fp2.one + alpha).power(pMinus1Over2) * x0
        return root.squared == a ? root : nil
    }

    static func shiftRight(_ value: UInt256, _ bits: Int) -> UInt256 {
        (0..<bits).reduce(value) { shifted, _ in shifted.shiftedRightOne }
    }
}
