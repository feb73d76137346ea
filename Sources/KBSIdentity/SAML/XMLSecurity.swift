import CXMLSec
import Synchronization

/// libxml2 and xmlsec, initialised once and used under one lock: their global state (error handlers, the ID
/// table of a document under verification) is not something to share between threads.
enum XMLSecurity {
    private static let lock = Mutex<Int32?>(nil)

    /// Runs `body` with the libraries initialised; a `configuration` error when they cannot be.
    static func withLock<T>(_ body: () throws(IdentityError) -> T) throws(IdentityError) -> T {
        let result: Result<T, IdentityError> = lock.withLock { state in
            if state == nil { state = kbs_xmlsec_init() }
            guard state == 0 else { return .failure(IdentityError(.configuration, "xmlsec could not be initialised (\(state!))")) }
            kbs_xml_silence_thread()
            do throws(IdentityError) { return .success(try body()) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// What xmlsec said of one signature.
    enum Verdict {
        /// Valid; the bytes its one reference's digest was computed over.
        case valid(preDigest: [UInt8])
        case invalid
        case refused
        case badKey
    }

    /// Verifies the `ds:Signature` element with the certificate `pem` (call inside ``withLock(_:)``).
    static func verify(signature: XMLElement, certificatePEM pem: [UInt8]) -> Verdict {
        var output: UnsafeMutablePointer<UInt8>?
        var length = 0
        let status = pem.withUnsafeBufferPointer { buffer in
            kbs_xmlsec_verify(signature.pointer, buffer.baseAddress, buffer.count, &output, &length)
        }
        defer { free(output) }
        switch status {
        case KBS_XMLSEC_VALID:
            guard let output else { return .refused }
            return .valid(preDigest: Array(UnsafeBufferPointer(start: output, count: length)))
        case KBS_XMLSEC_INVALID: return .invalid
        case KBS_XMLSEC_NO_KEY: return .badKey
        default: return .refused
        }
    }
}
