import Foundation
import KBSClaims

/// An EIP-4361 (Sign-In with Ethereum) message, parsed strictly by the ABNF of the ERC: every line in its
/// place, fields in order, nothing unknown, no line breaks inside a field.
struct SIWEMessage {
    var scheme: String?
    var domain: String
    var address: EthereumAddress
    var statement: String?
    var uri: String
    var version: String
    var chainID: Int64
    var nonce: String
    var issuedAt: Int64
    var expirationTime: Int64?
    var notBefore: Int64?
    var requestID: String?
    var resources: [String]

    /// Largest message accepted.
    static let maximumBytes = 16 * 1024
    private static let header = " wants you to sign in with your Ethereum account:"

    /// RFC 3986 `reserved` and `unreserved`, and space.
    static let statementCharacters = Set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;= ".unicodeScalars)

    init(_ text: String) throws(IdentityError) {
        guard text.utf8.count <= SIWEMessage.maximumBytes else { throw IdentityError(.malformed, "the message is too long") }
        guard !text.unicodeScalars.contains(where: { $0 == "\r" || ($0.value < 0x20 && $0 != "\n") || $0.value == 0x7F }) else {
            throw IdentityError(.malformed, "the message holds a carriage return or a control character")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)[...]
        func next() throws(IdentityError) -> String {
            guard let line = lines.popFirst() else { throw IdentityError(.malformed, "the message ends early") }
            return line
        }
        func field(_ name: String) throws(IdentityError) -> String {
            let line = try next()
            guard line.hasPrefix(name + ": ") else { throw IdentityError(.malformed, "expected `\(name): …`, found `\(line.prefix(40))`") }
            return String(line.dropFirst(name.count + 2))
        }
        func optionalField(_ name: String) -> String? {
            guard let line = lines.first, line.hasPrefix(name + ": ") else { return nil }
            lines.removeFirst()
            return String(line.dropFirst(name.count + 2))
        }
        func time(_ text: String, _ name: String) throws(IdentityError) -> Int64 {
            guard let nanos = Timestamp.nanoseconds(fromRFC3339: text) else { throw IdentityError(.malformed, "`\(name)` is not an RFC 3339 time") }
            return nanos / 1_000_000_000
        }

        let first = try next()
        guard first.hasSuffix(SIWEMessage.header) else { throw IdentityError(.malformed, "the first line is not a Sign-In with Ethereum request") }
        var authority = String(first.dropLast(SIWEMessage.header.count))
        if let range = authority.range(of: "://") {
            scheme = String(authority[..<range.lowerBound])
            authority = String(authority[range.upperBound...])
        }
        guard !authority.isEmpty, !authority.contains(" "), !authority.contains("/") else {
            throw IdentityError(.malformed, "the domain is not an authority")
        }
        domain = authority
        address = try EthereumAddress(try next(), requireChecksum: true)
        guard try next().isEmpty else { throw IdentityError(.malformed, "expected an empty line after the address") }
        // `[ statement LF ] LF`: either the statement and a blank line, or one more blank line.
        let statementLine = try next()
        if statementLine.isEmpty {
            statement = nil
        } else {
            // EIP-4361: `statement = *( reserved / unreserved / " " )`, so no look-alike or bidi-override text.
            guard statementLine.unicodeScalars.allSatisfy({ SIWEMessage.statementCharacters.contains($0) }) else {
                throw IdentityError(.malformed, "the statement holds a character outside EIP-4361's reserved, unreserved and space")
            }
            statement = statementLine
            guard try next().isEmpty else { throw IdentityError(.malformed, "the statement must be one line followed by an empty line") }
        }
        uri = try field("URI")
        version = try field("Version")
        guard version == "1" else { throw IdentityError(.malformed, "version `\(version)` is not 1") }
        let chain = try field("Chain ID")
        guard chain.allSatisfy({ $0.isASCII && $0.isNumber }), let chainID = Int64(chain), chainID > 0 else {
            throw IdentityError(.malformed, "the chain id is not a number")
        }
        self.chainID = chainID
        nonce = try field("Nonce")
        guard nonce.count >= 8, nonce.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw IdentityError(.malformed, "the nonce must be at least 8 letters and digits")
        }
        issuedAt = try time(try field("Issued At"), "Issued At")
        expirationTime = try optionalField("Expiration Time").map { (text) throws(IdentityError) in try time(text, "Expiration Time") }
        notBefore = try optionalField("Not Before").map { (text) throws(IdentityError) in try time(text, "Not Before") }
        requestID = optionalField("Request ID")
        resources = []
        if lines.first == "Resources:" {
            lines.removeFirst()
            while let line = lines.first, line.hasPrefix("- ") {
                resources.append(String(line.dropFirst(2)))
                lines.removeFirst()
            }
        }
        guard lines.isEmpty else { throw IdentityError(.malformed, "unexpected line `\(lines.first!.prefix(40))`") }
        guard !uri.isEmpty, !uri.contains(" ") else { throw IdentityError(.malformed, "the URI is empty or holds a space") }
    }
}
