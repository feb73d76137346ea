/// Why the XML libraries could not be used: the one error type of `KBSXMLSecurity`.
///
/// Documents that do not parse and signatures that do not verify are answers (`nil`, an ``XMLSignatureVerdict``),
/// not errors. What is left is the process's own set-up, which callers report as their configuration error.
package struct XMLSecurityError: Error, Sendable, Equatable {
    /// `kbs_xmlsec_init`'s status: which of libxml2, xmlsec, its version check or its OpenSSL back end failed.
    package var status: Int32

    /// What failed, in words.
    package var message: String { "xmlsec could not be initialised (\(status))" }
}
