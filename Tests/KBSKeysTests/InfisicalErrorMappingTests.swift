import Foundation
import KBSClaims
import Testing

@testable import KBSKeys

/// How Infisical's failures reach callers, against a scripted server that logs in anyone and then answers every
/// other request with one fixed status and body.
@Suite(InfisicalTools.needed)
struct InfisicalErrorMappingTests {
    static let script = """
        import signal, sys
        from http.server import BaseHTTPRequestHandler, HTTPServer
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        STATUS, BODY = int(sys.argv[1]), sys.argv[2].encode()
        LOGIN = b'{"accessToken": "t", "expiresIn": 600, "accessTokenMaxTTL": 600, "tokenType": "Bearer"}'
        class H(BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def answer(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                login = self.path.endswith("/universal-auth/login")
                data = LOGIN if login else BODY
                self.send_response(200 if login else STATUS)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            do_GET = do_POST = do_PATCH = answer
        server = HTTPServer(("127.0.0.1", 0), H)
        print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
        server.serve_forever()
        """

    /// The error `encrypt` through a server answering `status` and `body` throws.
    func encryptError(status: Int, body: String) async throws -> (KeyError, logins: Int) {
        let server = try InfisicalStandIn(pythonArguments: ["-c", Self.script, String(status), body])
        defer { server.stop() }
        let client = server.client()
        do {
            _ = try await client.encrypt(keyID: "any", plaintext: SecretBytes(copying: Array("plain".utf8)))
        } catch {
            return (error, await client.tokens.logins)
        }
        throw InfisicalToolError(description: "HTTP \(status) did not fail")
    }

    @Test func aTokenRefusedAgainAfterReLoginIsUnauthenticated() async throws {
        // As Infisical answers when an identity's access is revoked between login and use: one more login, then
        // the client gives up.
        let body = #"{"reqId":"r","statusCode":401,"message":"Token revoked","error":"UnauthorizedError"}"#
        let (error, logins) = try await encryptError(status: 401, body: body)
        #expect(error.reason == .unauthenticated && error.message.contains("Token revoked"), "\(error)")
        #expect(logins == 2)
    }

    @Test func permissionDeniedIsNotRetriedAsAnExpiredToken() async throws {
        let body =
            #"{"reqId":"r","statusCode":403,"message":"You are not allowed to encrypt on cmek","#
            + #""error":"PermissionDenied"}"#
        let (error, logins) = try await encryptError(status: 403, body: body)
        #expect(error.reason == .storage && error.message.contains("HTTP 403 PermissionDenied"), "\(error)")
        #expect(logins == 1)
    }

    @Test func serverErrorsAreStorageWithInfisicalsMessage() async throws {
        let body = #"{"reqId":"r","statusCode":500,"message":"Something went wrong","error":"InternalServerError"}"#
        let (error, _) = try await encryptError(status: 500, body: body)
        #expect(error.reason == .storage, "\(error)")
        #expect(error.message.contains("HTTP 500 InternalServerError: Something went wrong"), "\(error)")
        let (gateway, _) = try await encryptError(status: 502, body: "<html>bad gateway</html>")
        #expect(gateway.reason == .storage && gateway.message.contains("HTTP 502 (no Infisical error body)"))
    }

    @Test func validationIssuesAreListed() async throws {
        let body =
            #"{"reqId":"r","statusCode":422,"message":[{"path":["plaintext"],"message":"Required"}],"#
            + #""error":"ValidationFailure"}"#
        let (error, _) = try await encryptError(status: 422, body: body)
        #expect(error.reason == .storage, "\(error)")
        #expect(error.message.contains("HTTP 422 ValidationFailure: plaintext: Required"), "\(error)")
    }

    @Test func anAnswerThatIsNotTheExpectedJSONIsMalformed() async throws {
        let (error, _) = try await encryptError(status: 200, body: #"{"cipher": "wrong member"}"#)
        #expect(error.reason == .malformed, "\(error)")
        let (text, _) = try await encryptError(status: 200, body: "not json")
        #expect(text.reason == .malformed, "\(text)")
    }

    @Test func anUnreachableServerIsStorage() async throws {
        let standIn = try InfisicalStandIn()
        let client = standIn.client()
        standIn.stop()
        await expectKeyError(.storage) { try await client.login() }
    }
}
