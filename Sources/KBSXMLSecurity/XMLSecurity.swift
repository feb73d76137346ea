import CXMLSec
import Synchronization

/// libxml2 and xmlsec for the whole process: initialised once, and used only under one lock.
///
/// Their global state (the error handlers, xmlsec's transform and key-data registries, the ID table of a document
/// under verification) is not something to share between threads, and SAML and the NVIDIA RIM verifier use the same
/// libraries, so both go through this one lock. Parse, walk and verify inside ``withLock(unavailable:_:)``; the
/// documents are not `Sendable` and must not leave it.
package enum XMLSecurity {
    /// The initialisation status once tried (0 is success); nil before the first use.
    private static let library = Mutex<Int32?>(nil)

    /// Runs `body` with the libraries initialised and the lock held. When they cannot be initialised, `body` does
    /// not run and `unavailable` turns the reason into the caller's error.
    package static func withLock<T, Failure: Error>(
        unavailable: (XMLSecurityError) -> Failure,
        _ body: () throws(Failure) -> T
    ) throws(Failure) -> T {
        let result: Result<T, Failure> = library.withLock { status in
            if status == nil { status = kbs_xmlsec_init() }
            guard status == 0 else {
                return .failure(unavailable(XMLSecurityError(status: status!)))
            }
            // libxml2's generic error handler is per thread, and the lock may be taken on any of them.
            kbs_xml_silence_thread()
            do throws(Failure) { return .success(try body()) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
