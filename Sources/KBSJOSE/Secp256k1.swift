import CSecp256k1

/// secp256k1 through libsecp256k1 (Debian's 0.2): public-key parsing, ECDSA verification and public-key
/// recovery. Every entry refuses high-s signatures: the low-s twin would verify too (EIP-2), and a verifier that
/// takes both lets one signature be replayed under a second form.
package enum Secp256k1 {
    /// One context for the process (flags 1 = SECP256K1_CONTEXT_NONE): enough for parsing, verification and
    /// recovery, and safe to share between threads because those calls never write to it.
    nonisolated(unsafe) private static let context: OpaquePointer = secp256k1_context_create(1)!
    /// A parsed, on-curve public key.
    package struct PublicKey: @unchecked Sendable {
        fileprivate var key: secp256k1_pubkey

        /// Parses 33 (compressed) or 65 (uncompressed) bytes; nil when the point is not on the curve.
        package init?(_ bytes: [UInt8]) {
            guard bytes.count == 33 || bytes.count == 65 else { return nil }
            var key = secp256k1_pubkey()
            guard secp256k1_ec_pubkey_parse(context, &key, bytes, bytes.count) == 1 else { return nil }
            self.key = key
        }

        fileprivate init(key: secp256k1_pubkey) { self.key = key }

        /// The 65-byte uncompressed form, `04 ‖ x ‖ y`.
        package var uncompressed: [UInt8] { serialize(flags: 2) }

        /// The 33-byte compressed form.
        package var compressed: [UInt8] { serialize(flags: 258) }

        private func serialize(flags: UInt32) -> [UInt8] {
            var key = self.key
            var output = [UInt8](repeating: 0, count: 65)
            var length = output.count
            _ = secp256k1_ec_pubkey_serialize(context, &output, &length, &key, flags)
            return Array(output.prefix(length))
        }
    }

    package enum Failure: Error {
        /// r or s is zero or not below the group order.
        case outOfRange
        /// s is above n/2.
        case highS
        /// The signature does not verify, or no key can be recovered.
        case invalid
    }

    /// Checks that a 64-byte `r ‖ s` is in range and low-s, and returns libsecp256k1's parsed form.
    private static func parse(_ compact: [UInt8]) throws(Failure) -> secp256k1_ecdsa_signature {
        guard compact.count == 64 else { throw .outOfRange }
        var signature = secp256k1_ecdsa_signature()
        guard secp256k1_ecdsa_signature_parse_compact(context, &signature, compact) == 1 else { throw .outOfRange }
        guard compact[0..<32].contains(where: { $0 != 0 }), compact[32..<64].contains(where: { $0 != 0 }) else { throw .outOfRange }
        var normalized = secp256k1_ecdsa_signature()
        // normalize returns 1 exactly when s was high.
        if secp256k1_ecdsa_signature_normalize(context, &normalized, &signature) == 1 { throw .highS }
        return signature
    }

    /// Verifies a 64-byte `r ‖ s` signature over a 32-byte digest.
    package static func verify(_ compact: [UInt8], digest: [UInt8], key: PublicKey) throws(Failure) {
        var signature = try parse(compact)
        var key = key.key
        guard digest.count == 32, secp256k1_ecdsa_verify(context, &signature, digest, &key) == 1 else { throw .invalid }
    }

    /// Recovers the public key that made a 64-byte `r ‖ s` with recovery id 0 or 1 over a 32-byte digest.
    package static func recover(_ compact: [UInt8], recoveryID: Int32, digest: [UInt8]) throws(Failure) -> PublicKey {
        _ = try parse(compact)
        guard digest.count == 32, recoveryID == 0 || recoveryID == 1 else { throw .invalid }
        var recoverable = secp256k1_ecdsa_recoverable_signature()
        guard secp256k1_ecdsa_recoverable_signature_parse_compact(context, &recoverable, compact, recoveryID) == 1 else {
            throw .outOfRange
        }
        var key = secp256k1_pubkey()
        guard secp256k1_ecdsa_recover(context, &key, &recoverable, digest) == 1 else { throw .invalid }
        return PublicKey(key: key)
    }
}
