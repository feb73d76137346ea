import Crypto
package import KBSClaims

/// How a runtime-data digest is fitted into a TEE's report-data field (Trustee's `regularize_data`).
package enum ReportDataFit: Sendable, Equatable {
    /// Zero-padded on the right to `n` bytes (longer input is cut to `n`).
    case pad(Int)
    /// Cut to the first `n` bytes (shorter input is zero-padded): NVIDIA's 32-byte SPDM nonce.
    case truncate(Int)
    /// Compared as given: TPM `extraData`.
    case exact

    /// `bytes` fitted to the field.
    package func apply(_ bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .pad(let size), .truncate(let size):
            if bytes.count >= size { return Array(bytes.prefix(size)) }
            return bytes + [UInt8](repeating: 0, count: size - bytes.count)
        case .exact:
            return bytes
        }
    }
}

/// The hash a KBS applies to canonical runtime data before fitting it (research §2.3).
package enum RuntimeDataHash: String, Sendable, CaseIterable {
    case sha256, sha384, sha512

    /// The digest of `bytes`.
    package func digest(_ bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .sha256: Array(SHA256.hash(data: bytes))
        case .sha384: Array(SHA384.hash(data: bytes))
        case .sha512: Array(SHA512.hash(data: bytes))
        }
    }
}

/// The report-data binding: `fit(HASH(JCS(runtime-data)))`.
package enum ReportDataBinding {
    /// The expected report-data field for `runtimeData` (any JSON text), canonicalised with RFC 8785.
    package static func expected(
        runtimeData: [UInt8], hash: RuntimeDataHash = .sha384, kind: EvidenceKind
    ) throws(EvidenceError) -> [UInt8] {
        let canonical: [UInt8]
        do { canonical = try JCS.canonicalize(runtimeData) } catch {
            throw EvidenceError(.malformed, "runtime data: \(error.message)")
        }
        return kind.reportDataFit.apply(hash.digest(canonical))
    }
}
