import Crypto
import KBSClaims

/// One share of a secret split with Shamir's scheme: the point (`index`, polynomial value) for each secret byte.
///
/// Text form, for handing to a custodian: `kbs-share-v1-` followed by hex of
/// `threshold (1) | index (1) | values (n) | checksum (4)`, where the checksum is the first four bytes of SHA-256 over
/// what precedes it, so a mistyped share is named before reconstruction is tried.
package struct ShamirShare: Sendable, Hashable {
    /// How many shares reconstruct the secret.
    package let threshold: Int
    /// The x coordinate, 1–255.
    package let index: Int
    /// One y coordinate per secret byte.
    package let values: [UInt8]

    init(threshold: Int, index: Int, values: [UInt8]) {
        self.threshold = threshold
        self.index = index
        self.values = values
    }

    private static let prefix = "kbs-share-v1-"

    /// The share as text.
    package var encoded: String {
        var bytes = [UInt8(threshold), UInt8(index)] + values
        bytes += SHA256.hash(data: bytes).prefix(4)
        return Self.prefix + Hex.encode(bytes)
    }

    /// Parses a share's text form, refusing a bad checksum with `shares` and other damage with `malformed`.
    package init(encoded text: String) throws(KeyError) {
        guard text.hasPrefix(Self.prefix) else { throw KeyError(.malformed, "a share starts with \(Self.prefix)") }
        let hex = text.utf8.dropFirst(Self.prefix.utf8.count)
        guard hex.count % 2 == 0, hex.count >= 2 * 7 else { throw KeyError(.malformed, "truncated share") }
        guard let bytes = Hex.decode(utf8: hex) else { throw KeyError(.malformed, "a share is hexadecimal after its prefix") }
        let body = Array(bytes.dropLast(4))
        guard Array(SHA256.hash(data: body).prefix(4)) == Array(bytes.suffix(4)) else {
            throw KeyError(.shares, "share checksum mismatch: the share is corrupted or mistyped")
        }
        guard body[0] >= 2, body[1] >= 1 else { throw KeyError(.malformed, "share threshold or index out of range") }
        self.init(threshold: Int(body[0]), index: Int(body[1]), values: Array(body.dropFirst(2)))
    }
}

/// Shamir's secret sharing over GF(256), byte by byte.
enum Shamir {
    /// Splits `secret` into `count` shares, any `threshold` of which reconstruct it.
    static func split(_ secret: borrowing SecretBytes, threshold: Int, count: Int) throws(KeyError) -> [ShamirShare] {
        guard threshold >= 2, threshold <= count, count <= 255 else {
            throw KeyError(.invalidArgument, "shares need 2 ≤ threshold ≤ count ≤ 255, not \(threshold) of \(count)")
        }
        var generator = SystemRandomNumberGenerator()
        var values = [[UInt8]](repeating: [UInt8](repeating: 0, count: secret.count), count: count)
        // Coefficients a₁…a_{t-1} for one byte at a time; a₀ is the secret byte.
        var coefficients = [UInt8](repeating: 0, count: threshold)
        defer { wipe(&coefficients) }
        secret.withUnsafeBytes { bytes in
            for position in 0..<bytes.count {
                coefficients[0] = bytes[position]
                for degree in 1..<threshold { coefficients[degree] = generator.next() }
                for share in 0..<count {
                    values[share][position] = evaluate(coefficients, at: UInt8(share + 1))
                }
            }
        }
        return values.enumerated().map { ShamirShare(threshold: threshold, index: $0.offset + 1, values: $0.element) }
    }

    /// Reconstructs the secret from at least `threshold` consistent shares.
    ///
    /// Wrong or corrupted share values still interpolate to *some* bytes; the caller must check the result (the
    /// sealed file does, with AES-GCM).
    static func combine(_ shares: [ShamirShare]) throws(KeyError) -> SecretBytes {
        guard let first = shares.first else { throw KeyError(.shares, "no shares given") }
        let threshold = first.threshold
        guard shares.allSatisfy({ $0.threshold == threshold && $0.values.count == first.values.count }) else {
            throw KeyError(.shares, "the shares come from different splits (threshold or length differ)")
        }
        guard shares.allSatisfy({ (1...255).contains($0.index) }) else {
            throw KeyError(.shares, "a share index is outside 1–255")
        }
        var distinct: [ShamirShare] = []
        for share in shares {
            if let seen = distinct.first(where: { $0.index == share.index }) {
                guard seen.values == share.values else { throw KeyError(.shares, "two different shares have index \(share.index)") }
            } else {
                distinct.append(share)
            }
        }
        guard distinct.count >= threshold else {
            throw KeyError(.shares, "\(distinct.count) distinct shares given, \(threshold) needed")
        }
        let used = Array(distinct.prefix(threshold))
        // Lagrange basis at x = 0: ℓᵢ(0) = Πⱼ≠ᵢ xⱼ / (xⱼ − xᵢ), subtraction being XOR.
        let xs = used.map { UInt8($0.index) }
        var basis = [UInt8](repeating: 1, count: used.count)
        for i in xs.indices {
            for j in xs.indices where j != i {
                basis[i] = GF256.multiply(basis[i], GF256.divide(xs[j], GF256.add(xs[j], xs[i])))
            }
        }
        var secret = SecretBytes(zeros: first.values.count)
        secret.withUnsafeMutableBytes { out in
            for position in 0..<out.count {
                var byte: UInt8 = 0
                for i in used.indices { byte ^= GF256.multiply(used[i].values[position], basis[i]) }
                out[position] = byte
            }
        }
        return secret
    }

    /// The polynomial with `coefficients` (constant first) at `x`, by Horner's rule.
    static func evaluate(_ coefficients: [UInt8], at x: UInt8) -> UInt8 {
        var result: UInt8 = 0
        for coefficient in coefficients.reversed() {
            result = GF256.add(GF256.multiply(result, x), coefficient)
        }
        return result
    }
}
