import CoreMetrics
import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// The certificate chain and private key `kbs serve` answers TLS handshakes with (`[tls]`), re-read when either file
/// changes and on SIGHUP.
///
/// The first load happens in `init`, so a missing, unreadable or mismatched pair stops the server before it listens.
/// A later bad edit is logged and counted (`kbs_tls_reload_failing 1`) while the last good pair keeps serving: a
/// half-written renewal must not take the service down. New pairs reach handshakes through NIOSSL's per-handshake
/// context callback, so connections already open keep the certificate they were made with.
final class TLSCertificates: Sendable {
    /// A loaded pair and the file stamps it was read at.
    private struct Loaded: Sendable {
        var chain: [NIOSSLCertificate]
        var key: NIOSSLPrivateKey
        var stamps: [FileStamp]
    }

    /// What identifies a file's content cheaply: a renewal replaces the file or rewrites it.
    private struct FileStamp: Equatable, Sendable {
        var modified: Date?
        var size: Int?
        var inode: Int?

        init(_ path: String) {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            modified = attributes?[.modificationDate] as? Date
            size = (attributes?[.size] as? NSNumber)?.intValue
            inode = (attributes?[.systemFileNumber] as? NSNumber)?.intValue
        }
    }

    let certificatePath: String
    let keyPath: String
    private let loaded: Mutex<Loaded>
    private let metrics: ServerMetrics
    private let logger: Logger

    /// Loads the pair; a `tls` error names the file and what is wrong with it.
    init(certificatePath: String, keyPath: String, metrics: ServerMetrics, logger: Logger) throws(ServerError) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.metrics = metrics
        self.logger = logger
        loaded = Mutex(try Self.load(certificatePath: certificatePath, keyPath: keyPath))
        metrics.tlsReloadFailing.record(0)
    }

    /// The server configuration: TLS 1.2 or later, HTTP/2 and HTTP/1.1 offered by ALPN, the current pair per handshake.
    func serverConfiguration() -> TLSConfiguration {
        let current = loaded.withLock { $0 }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: current.chain.map { .certificate($0) }, privateKey: .privateKey(current.key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["h2", "http/1.1"]
        configuration.sslContextCallback = { [self] _, promise in
            let now = loaded.withLock { $0 }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = now.chain.map { .certificate($0) }
            override.privateKey = .privateKey(now.key)
            promise.succeed(override)
        }
        return configuration
    }

    /// Re-reads the pair if either file changed since it was loaded.
    func reloadIfChanged() {
        let stamps = [FileStamp(certificatePath), FileStamp(keyPath)]
        guard loaded.withLock({ $0.stamps != stamps }) else { return }
        reload(trigger: "change")
    }

    /// Re-reads the pair; on failure the last good one stays and the failure is logged and counted.
    func reload(trigger: String) {
        do throws(ServerError) {
            let fresh = try Self.load(certificatePath: certificatePath, keyPath: keyPath)
            loaded.withLock { $0 = fresh }
            metrics.tlsReloadsSucceeded.increment()
            metrics.tlsReloadFailing.record(0)
            logger.notice("reloaded the TLS certificate", metadata: ["trigger": "\(trigger)", "certificate": "\(certificatePath)"])
        } catch {
            // Remember the failed files' stamps so a poll does not retry (and log) the same bad pair every interval.
            let stamps = [FileStamp(certificatePath), FileStamp(keyPath)]
            loaded.withLock { $0.stamps = stamps }
            metrics.tlsReloadsFailed.increment()
            metrics.tlsReloadFailing.record(1)
            logger.error(
                "TLS certificate reload failed; the last good one keeps serving",
                metadata: ["trigger": "\(trigger)", "error": "\(error.message)"])
        }
    }

    /// Reads and checks a pair: PEM certificates (leaf first), a PEM private key, and a key that belongs to the leaf.
    private static func load(certificatePath: String, keyPath: String) throws(ServerError) -> Loaded {
        let stamps = [FileStamp(certificatePath), FileStamp(keyPath)]
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw ServerError(.internalServerError, "tls", "\(certificatePath) holds no readable PEM certificate (\(error))")
        }
        guard !chain.isEmpty else { throw ServerError(.internalServerError, "tls", "\(certificatePath) holds no PEM certificate") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw ServerError(.internalServerError, "tls", "\(keyPath) holds no readable PEM private key (\(error))")
        }
        // A context is where BoringSSL checks that the key belongs to the leaf certificate.
        do {
            _ = try NIOSSLContext(
                configuration: .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)))
        } catch {
            throw ServerError(
                .internalServerError, "tls", "the private key in \(keyPath) does not belong to the certificate in \(certificatePath) (\(error))")
        }
        return Loaded(chain: chain, key: key, stamps: stamps)
    }
}
