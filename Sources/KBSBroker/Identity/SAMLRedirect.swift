import Foundation
import KBSClaims

/// The SAML 2.0 HTTP-Redirect binding for an AuthnRequest: the XML, raw DEFLATE, base64, URL-encoded into the IdP's
/// SSO URL as `SAMLRequest`, with `RelayState` (SAML bindings §3.4).
enum SAMLRedirect {
    /// The URL to send the browser to.
    static func url(provider: LoginSettings.SAMLProvider, requestID: String, issueInstant: Date) -> String {
        let xml = request(provider: provider, requestID: requestID, issueInstant: issueInstant)
        let encoded = Data(deflateStored(Array(xml.utf8))).base64EncodedString()
        let separator = provider.ssoURL.contains("?") ? "&" : "?"
        return provider.ssoURL + separator + "SAMLRequest=" + formEncode(encoded) + "&RelayState=" + formEncode(requestID)
    }

    /// The AuthnRequest: who asks (our entity id), where the response must go (our ACS, HTTP-POST), and the id the
    /// response's `InResponseTo` must carry.
    static func request(provider: LoginSettings.SAMLProvider, requestID: String, issueInstant: Date) -> String {
        """
        <samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" \
        ID="\(escape(requestID))" Version="2.0" IssueInstant="\(Timestamp.rfc3339(Int64(issueInstant.timeIntervalSince1970) * 1_000_000_000))" \
        Destination="\(escape(provider.ssoURL))" AssertionConsumerServiceURL="\(escape(provider.acsURL))" \
        ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>\(escape(provider.spEntityID))</saml:Issuer>\
        <samlp:NameIDPolicy AllowCreate="true"/></samlp:AuthnRequest>
        """
    }

    /// RFC 1951 DEFLATE with stored (uncompressed) blocks: valid input for every inflater, and needs no zlib here.
    static func deflateStored(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var offset = 0
        repeat {
            let count = min(65535, bytes.count - offset)
            let final: UInt8 = offset + count == bytes.count ? 1 : 0
            out.append(final)
            out += [UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            out += bytes[offset..<offset + count]
            offset += count
        } while offset < bytes.count
        return out
    }

    /// Percent-encodes all but RFC 3986's unreserved characters.
    static func formEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E: out.append(Character(Unicode.Scalar(byte)))
            default: out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// XML-escapes text for an attribute value or element content.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}
