import Crypto
package import Foundation
import Glibc
package import KBSClaims

/// The simulator's certificate authorities kept in a folder, so that evidence simulated at different times (and by
/// different processes) chains to the same roots.
///
/// `kbs serve` under `TEE_MODE=simulator` creates one in its data directory and trusts exactly its roots; a client
/// simulating a guest passes the same folder to `kbs tee simulate --ca`. Without a CA, each simulation makes fresh
/// roots. The folder holds private keys of test authorities only: nothing it signs verifies against a vendor's roots.
package struct SimulatorCA: Sendable {
    /// The authorities by kind, root first.
    let authorities: [EvidenceKind: [TestChain.Issued]]

    /// The file inside the folder.
    static let fileName = "simulator-ca.json"

    /// Opens the CA in `directory`, creating the folder (0700) and fresh authorities (0600) when none is there.
    package static func openOrCreate(directory: String, now: Date = Date()) throws(EvidenceError) -> SimulatorCA {
        let path = directory + "/" + fileName
        if FileManager.default.fileExists(atPath: path) { return try load(path: path) }
        var authorities: [EvidenceKind: [TestChain.Issued]] = [:]
        authorities[.snp] = try SimulatedSNP.authorities(now: now)
        authorities[.tdx] = try SimulatedTDX.authorities(now: now)
        authorities[.nvidia] = try SimulatedNVIDIA.authorities(now: now)
        let ca = SimulatorCA(authorities: authorities)
        var object: [String: Any] = ["version": 1]
        for (kind, chain) in authorities {
            object[kind.rawValue] = chain.map { issued -> [String: String] in
                let curve = issued.key.usesSHA384 ? "p384" : "p256"
                return [
                    "certificate": Data(issued.certificate.der).base64EncodedString(),
                    "key": Data(issued.key.der).base64EncodedString(), "curve": curve,
                ]
            }
        }
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            // O_EXCL: two processes creating at once must not end up trusting different roots.
            let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            guard descriptor >= 0 else {
                if errno == EEXIST { return try SimulatorCA.load(path: path) }
                throw EvidenceError(.configuration, "simulator CA: cannot create \(path)")
            }
            defer { Glibc.close(descriptor) }
            let written = data.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            guard written == data.count, fsync(descriptor) == 0 else {
                throw EvidenceError(.configuration, "simulator CA: cannot write \(path)")
            }
        } catch let error as EvidenceError {
            throw error
        } catch {
            throw EvidenceError(.configuration, "simulator CA: cannot create \(directory): \(error.localizedDescription)")
        }
        return ca
    }

    private static func load(path: String) throws(EvidenceError) -> SimulatorCA {
        guard let data = FileManager.default.contents(atPath: path),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], object["version"] as? Int == 1
        else { throw EvidenceError(.configuration, "simulator CA: \(path) is not a simulator CA file") }
        var authorities: [EvidenceKind: [TestChain.Issued]] = [:]
        for kind in TEESimulator.kinds {
            guard let entries = object[kind.rawValue] as? [[String: String]], !entries.isEmpty else {
                throw EvidenceError(.configuration, "simulator CA: \(path) has no \(kind.rawValue) authorities")
            }
            var chain: [TestChain.Issued] = []
            for entry in entries {
                guard let certificate = entry["certificate"].flatMap({ Data(base64Encoded: $0) }),
                    let keyDER = entry["key"].flatMap({ Data(base64Encoded: $0) })
                else { throw EvidenceError(.configuration, "simulator CA: \(path) has a malformed \(kind.rawValue) entry") }
                let key: TestChain.Key
                do {
                    key =
                        entry["curve"] == "p384"
                        ? .p384(try P384.Signing.PrivateKey(derRepresentation: keyDER))
                        : .p256(try P256.Signing.PrivateKey(derRepresentation: keyDER))
                } catch {
                    throw EvidenceError(.configuration, "simulator CA: \(path) has an unreadable \(kind.rawValue) key")
                }
                chain.append(TestChain.Issued(certificate: try Certificate(der: Array(certificate)), key: key))
            }
            authorities[kind] = chain
        }
        return SimulatorCA(authorities: authorities)
    }

    /// The trust anchors evidence of `kind` simulated with this CA verifies against (what `DIR/trust-anchors/` holds).
    package func trustAnchors(for kind: EvidenceKind) -> [EvidenceFile] {
        guard let chain = authorities[kind] else { return [] }
        switch kind {
        case .snp: return [EvidenceFile(name: "ask_ark.pem", bytes: TestChain.pem(chain.reversed().map(\.certificate)))]
        case .tdx: return [EvidenceFile(name: "sgx-root.pem", bytes: TestChain.pem([chain[0].certificate]))]
        default: return [EvidenceFile(name: "\(kind.rawValue)-root.pem", bytes: TestChain.pem([chain[0].certificate]))]
        }
    }
}
