import KBSClaims

/// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=<id>/<date>/<region>/<service>/aws4_request,
/// SignedHeaders=<a;b;c>, Signature=<hex>`.
struct SigV4Authorization {
    var accessKeyID: String
    /// `YYYYMMDD`.
    var date: String
    var region: String
    var service: String
    /// Lower-case header names, in the order the client listed (and signed) them.
    var signedHeaders: [String]
    /// The 32 bytes of the hex signature.
    var signature: [UInt8]

    /// Parses the header value; `unsupported` for another algorithm, `malformed` for anything that does not parse.
    init(_ header: String) throws(IdentityError) {
        let trimmed = Self.strip(Substring(header))
        guard trimmed.hasPrefix(SigV4Verifier.algorithm + " ") else {
            let scheme = trimmed.prefix { $0 != " " }.prefix(32)
            throw IdentityError(.unsupported, "`Authorization` uses `\(scheme)`; this API takes AWS4-HMAC-SHA256 (SigV4)")
        }
        var fields: [String: String] = [:]
        for part in trimmed.dropFirst(SigV4Verifier.algorithm.count + 1).split(separator: ",") {
            let pair = Self.strip(part)
            guard let equals = pair.firstIndex(of: "=") else { throw IdentityError(.malformed, "`Authorization` has a part without `=`") }
            let name = String(pair[..<equals])
            guard fields[name] == nil else { throw IdentityError(.malformed, "`Authorization` repeats `\(name.prefix(32))`") }
            fields[name] = String(pair[pair.index(after: equals)...])
        }
        guard let credential = fields["Credential"], let signed = fields["SignedHeaders"], let signature = fields["Signature"] else {
            throw IdentityError(.malformed, "`Authorization` needs Credential, SignedHeaders and Signature")
        }
        let scope = credential.split(separator: "/", omittingEmptySubsequences: false)
        guard scope.count == 5, !scope[0].isEmpty, scope[1].utf8.count == 8, scope[1].utf8.allSatisfy({ (0x30...0x39).contains($0) }),
            !scope[2].isEmpty, !scope[3].isEmpty, scope[4] == "aws4_request", scope.allSatisfy({ $0.utf8.count <= 128 })
        else {
            throw IdentityError(.malformed, "the credential is not <access key>/<yyyymmdd>/<region>/<service>/aws4_request")
        }
        let headers = signed.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        guard !headers.isEmpty, headers.allSatisfy({ !$0.isEmpty && $0 == $0.lowercased() }), Set(headers).count == headers.count else {
            throw IdentityError(.malformed, "SignedHeaders must list distinct lower-case header names")
        }
        guard signature.utf8.count == 64, let bytes = Hex.decode(signature) else {
            throw IdentityError(.malformed, "Signature must be 64 hex digits")
        }
        accessKeyID = String(scope[0])
        date = String(scope[1])
        region = String(scope[2])
        service = String(scope[3])
        signedHeaders = headers
        self.signature = bytes
    }

    /// `text` without its leading and trailing spaces.
    private static func strip(_ text: Substring) -> Substring {
        var text = text
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}
