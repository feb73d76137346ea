import Foundation
import HTTPTypes
import Hummingbird
import KBSBroker
import KBSClaims

/// Reads the credential a request carries (DESIGN, "Credentials on requests"), without checking it: `Authorization:
/// Bearer …`, an RFC 9421 `Signature-Input`/`Signature` pair, or the `kbs-login` cookie, in that order.
enum RequestCredential {
    /// The login session cookie's name.
    static let loginCookie = "kbs-login"

    /// The request's credential, nil when it carries none; `body` is what the handler read (signatures may cover it),
    /// `scheme` the one the server is reached with.
    static func presented(_ request: Request, body: [UInt8], scheme: String) throws(ServerError) -> PresentedCredential? {
        if let header = request.headers[.authorization] {
            guard header.count > 7, header.prefix(7).lowercased() == "bearer " else {
                throw ServerError(.unauthorized, "invalid_credential", "`Authorization` must be `Bearer <token>`")
            }
            return .bearer(String(header.dropFirst(7)))
        }
        if request.headers[signatureInput] != nil || request.headers[signature] != nil {
            return .signedRequest(signedRequestJSON(request, body: body, scheme: scheme))
        }
        if let id = cookie(loginCookie, in: request) { return .loginCookie(id) }
        return nil
    }

    static let signatureInput = HTTPField.Name("Signature-Input")!
    static let signature = HTTPField.Name("Signature")!

    /// The value of cookie `name`, if the request carries it.
    static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let trimmed = pair.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix(name + "=") { return String(trimmed.dropFirst(name.count + 1)) }
            }
        }
        return nil
    }

    /// The request as the `hmac` verifier reads it: `{"method", "target_uri", "headers": [[name, value]…], "body"}`.
    /// The target URI is rebuilt from the scheme served (`https` under TLS), the `Host` header (`:authority` in HTTP/2)
    /// and the path as sent.
    static func signedRequestJSON(_ request: Request, body: [UInt8], scheme: String) -> [UInt8] {
        var writer = JSONWriter()
        writer.object { root in
            root.member("method", request.method.rawValue)
            let authority = request.head.authority ?? ""
            root.member("target_uri", scheme + "://" + authority + (request.head.path ?? "/"))
            root.key("headers")
            root.array { list in
                for field in request.headers {
                    list.array { pair in
                        pair.string(field.name.canonicalName)
                        pair.string(field.value)
                    }
                }
            }
            if !body.isEmpty { root.member("body", String(decoding: body, as: UTF8.self)) }
        }
        return writer.bytes
    }
}
