import AsyncHTTPClient
package import Foundation
import KBSClaims
package import KBSEvidence
import NIOCore
import NIOHTTP1
import NIOSSL

/// Fetches collateral from the vendors over HTTPS: AMD KDS (VCEKs, CRLs), Intel PCS v4 (TCB info, QE identity, PCK
/// CRLs, with the signing chain from the response header) and Intel's Root CA CRL.
///
/// One policy for every fetch: only requests the verifiers build (``CollateralRequest/isWellFormed``), `https` (plain
/// `http` only to this machine, for a local mirror), no redirects, a connect-and-read timeout, a size limit, and 200 as
/// the only good status. An answer that is not the document asked for is refused. It keeps nothing: a
/// ``DiskCollateralCache`` in front of it keeps what it fetched and asks again before `nextUpdate`. Trust is still the
/// verifier's: it checks every signature and chain against the pinned roots.
package struct VendorCollateralFetcher: CollateralSource {
    /// Where each service is reached: AMD KDS and Intel PCS by base URL (a PCCS serves the PCS paths too), the Intel
    /// Root CA CRL by its own URL.
    package struct Endpoints: Sendable, Equatable {
        package var amdKDS = "https://kdsintf.amd.com"
        package var intelPCS = "https://api.trustedservices.intel.com"
        package var intelRootCRL = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"

        /// The vendors' own services.
        package init() {}
    }

    package let endpoints: Endpoints
    /// Seconds to connect, and at most between two reads; the whole exchange gets twice that.
    package let timeoutSeconds: Double
    /// Largest answer accepted, in bytes.
    package let maximumBytes: Int
    /// A PEM file of CA certificates trusted beside the system's (a private mirror's or a PCCS's CA, tests).
    package let certificateAuthorityFile: String?

    /// Creates a fetcher; a URL that is not `https` (or `http` to a loopback address) or that carries credentials, a
    /// query or a fragment is a `configuration` error.
    package init(
        endpoints: Endpoints = Endpoints(), timeoutSeconds: Double = 10, maximumBytes: Int = 1 << 20, certificateAuthorityFile: String? = nil
    ) throws(EvidenceError) {
        for (name, url) in [("AMD KDS", endpoints.amdKDS), ("Intel PCS", endpoints.intelPCS), ("Intel root CRL", endpoints.intelRootCRL)] {
            if let problem = Self.problem(with: url) { throw EvidenceError(.configuration, "the \(name) URL `\(url)` \(problem)") }
        }
        guard timeoutSeconds > 0, timeoutSeconds.isFinite else { throw EvidenceError(.configuration, "the collateral timeout must be positive") }
        guard maximumBytes > 0 else { throw EvidenceError(.configuration, "the collateral size limit must be positive") }
        self.endpoints = endpoints
        self.timeoutSeconds = timeoutSeconds
        self.maximumBytes = maximumBytes
        self.certificateAuthorityFile = certificateAuthorityFile
    }

    /// What is wrong with `text` as a collateral URL, nil when nothing is.
    package static func problem(with text: String) -> String? {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(), let host = components.host,
            !host.isEmpty
        else { return "is not an absolute URL" }
        let loopback = ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host.lowercased())
        guard scheme == "https" || (scheme == "http" && loopback) else { return "must be https (http only to this machine)" }
        guard components.user == nil, components.password == nil else { return "must not carry credentials" }
        guard components.query == nil, components.fragment == nil else { return "must not have a query or fragment" }
        return nil
    }

    /// The URL `request` is fetched from.
    package func url(for request: CollateralRequest) throws(EvidenceError) -> String {
        guard request.isWellFormed else { throw EvidenceError(.collateral, "\(request) is not a request this KBS sends to a vendor") }
        func joined(_ base: String) -> String { (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/" + request.path }
        switch request.service {
        case .amdKDS: return joined(endpoints.amdKDS)
        case .intelPCS: return joined(endpoints.intelPCS)
        case .intelRootCRL: return endpoints.intelRootCRL
        case .nvidiaRIM: throw EvidenceError(.collateral, "\(request): NVIDIA RIMs are not fetched")
        }
    }

    package func collateral(_ request: CollateralRequest, at time: Date) async throws(EvidenceError) -> Collateral {
        let url = try url(for: request)
        let client: HTTPClient
        do { client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: try clientConfiguration()) } catch {
            throw EvidenceError(.configuration, "collateral TLS set-up: \(error)")
        }
        // One client per fetch: fetches are rare (a cache stands in front). It closes in the background, so a peer that
        // never answers the TLS close does not hold up the answer.
        let result = await exchange(request, url: url, client: client)
        Task { try? await client.shutdown() }
        let answer = try result.get()
        do { _ = try answer.validity(for: request) } catch {
            throw EvidenceError(.collateral, "\(request.service.rawValue) answered \(request.path) with something else: \(error.message)")
        }
        return answer
    }

    /// Keeps nothing, so has nothing to forget.
    package func discard(_ request: CollateralRequest) async {}

    private func clientConfiguration() throws -> HTTPClient.Configuration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.shutdownTimeout = .seconds(2)
        if let certificateAuthorityFile {
            // Read now, so an unreadable file is a clear error rather than a failed handshake.
            tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(certificateAuthorityFile))]
        }
        let timeout = TimeAmount.milliseconds(Int64(timeoutSeconds * 1000))
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow, timeout: .init(connect: timeout, read: timeout), decompression: .disabled)
        configuration.connectionPool = .init(idleTimeout: .seconds(1))
        return configuration
    }

    private func exchange(_ request: CollateralRequest, url: String, client: HTTPClient) async -> Result<Collateral, EvidenceError> {
        let service = request.service.rawValue
        var outgoing = HTTPClientRequest(url: url)
        outgoing.method = .GET
        outgoing.headers.add(name: "Accept", value: Self.accept(request.item))
        do {
            let response = try await client.execute(outgoing, timeout: .milliseconds(Int64(timeoutSeconds * 2000)))
            guard response.status == .ok else {
                return .failure(EvidenceError(.collateral, "\(service) answered \(response.status.code) for \(request.path)"))
            }
            if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > maximumBytes {
                return .failure(EvidenceError(.collateral, "\(service) answered \(request.path) with \(length) bytes, over \(maximumBytes)"))
            }
            let body: ByteBuffer
            do { body = try await response.body.collect(upTo: maximumBytes) } catch is NIOTooManyBytesError {
                return .failure(EvidenceError(.collateral, "\(service) answered \(request.path) with over \(maximumBytes) bytes"))
            }
            var issuerChain: [UInt8] = []
            if let header = Self.issuerChainHeader(request), let value = response.headers.first(name: header) {
                guard let decoded = value.removingPercentEncoding else {
                    return .failure(EvidenceError(.collateral, "\(service): the \(header) header of \(request.path) is not URL-encoded PEM"))
                }
                issuerChain = Array(decoded.utf8)
            }
            return .success(Collateral(body: Array(buffer: body), issuerChain: issuerChain))
        } catch let error as HTTPClientError where error == .readTimeout || error == .deadlineExceeded || error == .connectTimeout {
            return .failure(EvidenceError(.collateral, "\(service) did not answer \(request.path) within \(timeoutSeconds) s"))
        } catch {
            return .failure(EvidenceError(.collateral, "\(service) cannot be reached for \(request.path): \(error)"))
        }
    }

    /// The media types each document comes in (PCS: JSON, `application/pkix-crl`; KDS: DER as octets).
    private static func accept(_ item: CollateralRequest.Item) -> String {
        switch item {
        case .certificate: "application/pkix-cert, application/x-pem-file, application/octet-stream"
        case .revocationList: "application/pkix-crl, application/x-pem-file, application/octet-stream"
        case .tcbInfo, .enclaveIdentity: "application/json"
        }
    }

    /// The Intel PCS v4 response header carrying the URL-encoded PEM chain that signs the document.
    private static func issuerChainHeader(_ request: CollateralRequest) -> String? {
        guard request.service == .intelPCS else { return nil }
        switch request.item {
        case .tcbInfo: return "TCB-Info-Issuer-Chain"
        case .enclaveIdentity: return "SGX-Enclave-Identity-Issuer-Chain"
        case .revocationList: return "SGX-PCK-CRL-Issuer-Chain"
        case .certificate: return nil
        }
    }
}
