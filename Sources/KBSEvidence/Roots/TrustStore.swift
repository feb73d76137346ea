import Crypto
package import Foundation
package import KBSClaims

/// The trust anchors of a deployment, each pinned to one vendor: the roots shipped with the binary and those added
/// in `DATA_DIR/trust-anchors/`. A verification of a kind sees only its vendor's anchors (``TrustVendor``).
///
/// `trust-anchors/<vendor>/` (`amd`, `intel`, `nvidia`, `cca`, `tpm`) assigns every file in it to that vendor. A file
/// directly in `trust-anchors/` is assigned by content: certificates by the organisation their subject names
/// (Advanced Micro Devices, Intel Corporation, NVIDIA; the simulator's roots to `simulator`, which anchors only `sim`
/// evidence), JSON to `cca` (a CPAK store), a bare public key to both `cca` and `tpm`. What cannot be assigned — a
/// certificate of another organisation, a bundle naming two vendors, a certificate in another vendor's folder, an
/// unknown folder — refuses the whole folder with a `configuration` error naming the file.
package struct TrustStore: Sendable {
    /// Where an anchor came from.
    package enum Origin: Sendable, Equatable {
        /// Compiled in; the vendor's publication URL.
        case shipped(String)
        /// Added by a deployment: the file's path.
        case file(String)
    }

    /// One anchor file and the vendor it is pinned to.
    package struct Anchor: Sendable {
        package var vendor: TrustVendor
        package var file: EvidenceFile
        package var origin: Origin

        /// What one certificate in the file is, or (with no subject) the file itself when it holds none.
        package struct Summary: Sendable {
            /// The subject, RFC 2253; nil for a CCA store or a public key.
            package var subject: String?
            /// SHA-256 of the certificate's DER (or of the file), lowercase hex.
            package var sha256: String
            /// The end of the certificate's validity.
            package var notAfter: Date?
        }

        /// A summary of each certificate in the file, or one of the file when it holds none.
        package var summaries: [Summary] {
            guard let certificates = try? Certificate.parseAll(file.bytes), !certificates.isEmpty else {
                return [Summary(subject: nil, sha256: Hex.encode(Array(SHA256.hash(data: file.bytes))), notAfter: nil)]
            }
            return certificates.map {
                Summary(subject: $0.subject, sha256: Hex.encode(Array(SHA256.hash(data: $0.der))), notAfter: $0.notAfter)
            }
        }
    }

    /// Every anchor, shipped first.
    package private(set) var entries: [Anchor]

    /// Nothing trusted.
    package static let empty = TrustStore(entries: [])

    /// The roots shipped with the binary.
    package static let shipped = TrustStore(
        entries: ShippedRoots.all.map {
            Anchor(vendor: $0.vendor, file: EvidenceFile(name: "shipped:\($0.source)", bytes: Array($0.pem.utf8)), origin: .shipped($0.source))
        })

    /// The anchor files a verification of `kind` may chain to.
    package func anchors(for kind: EvidenceKind) -> [EvidenceFile] {
        let vendor = TrustVendor(kind: kind)
        return entries.filter { $0.vendor == vendor }.map(\.file)
    }

    /// This store with `file` added for `vendor`.
    package func adding(_ file: EvidenceFile, for vendor: TrustVendor) -> TrustStore {
        var copy = self
        copy.entries.append(Anchor(vendor: vendor, file: file, origin: .file(file.name)))
        return copy
    }

    /// This store with the anchors in `directory` added (none when it does not exist); see the type's summary.
    package func adding(directory: String) throws(EvidenceError) -> TrustStore {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: directory) else { return self }
        var store = self
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = directory + "/" + name
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                guard let vendor = TrustVendor(rawValue: name), vendor != .simulator else {
                    let folders = TrustVendor.allCases.filter { $0 != .simulator }.map(\.rawValue).joined(separator: ", ")
                    throw EvidenceError(.configuration, "trust anchors: \(path) is not a vendor folder (\(folders))")
                }
                for file in try Self.files(in: path) {
                    try Self.check(file, in: vendor)
                    store = store.adding(file, for: vendor)
                }
            } else {
                let file = try Self.read(path)
                for vendor in try Self.vendors(of: file) { store = store.adding(file, for: vendor) }
            }
        }
        return store
    }

    /// The regular files directly in `directory`, in name order.
    private static func files(in directory: String) throws(EvidenceError) -> [EvidenceFile] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var files: [EvidenceFile] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            var isDirectory: ObjCBool = false
            let path = directory + "/" + name
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            files.append(try read(path))
        }
        return files
    }

    private static func read(_ path: String) throws(EvidenceError) -> EvidenceFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EvidenceError(.configuration, "trust anchors: cannot read \(path)")
        }
        return EvidenceFile(name: path, bytes: Array(data))
    }

    /// A file in a vendor's folder may hold certificates of no known organisation (a deployment's own CA), but not
    /// another vendor's or the simulator's.
    private static func check(_ file: EvidenceFile, in vendor: TrustVendor) throws(EvidenceError) {
        guard let certificates = try? Certificate.parseAll(file.bytes) else { return }
        for certificate in certificates {
            if let named = TrustVendor(naming: certificate), named != vendor {
                throw EvidenceError(
                    .configuration,
                    "trust anchors: \(file.name) is in the \(vendor.rawValue) folder but holds \(certificate.subject), a \(named.rawValue) certificate"
                )
            }
        }
    }

    /// The vendors a file directly in `trust-anchors/` is assigned to, by content.
    private static func vendors(of file: EvidenceFile) throws(EvidenceError) -> [TrustVendor] {
        let folders = "put it under trust-anchors/<vendor>/ (amd, intel, nvidia, cca, tpm)"
        if let certificates = try? Certificate.parseAll(file.bytes), !certificates.isEmpty {
            var named: Set<TrustVendor> = []
            for certificate in certificates {
                guard let vendor = TrustVendor(naming: certificate) else {
                    throw EvidenceError(
                        .configuration, "trust anchors: \(file.name) holds \(certificate.subject), which names no vendor; \(folders)")
                }
                named.insert(vendor)
            }
            guard named.count == 1, let vendor = named.first else {
                throw EvidenceError(
                    .configuration,
                    "trust anchors: \(file.name) mixes certificates of \(named.map(\.rawValue).sorted().joined(separator: " and ")); split it")
            }
            return [vendor]
        }
        let first = file.bytes.first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") { return [.cca] }
        if !TPMVerifier.publicKeys(in: file.bytes).isEmpty { return [.cca, .tpm] }
        throw EvidenceError(
            .configuration, "trust anchors: \(file.name) is not a certificate, a CCA trust-anchor store or a public key; \(folders)")
    }
}
