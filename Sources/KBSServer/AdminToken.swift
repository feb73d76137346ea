import Foundation
import HTTPTypes
import KBSClaims

/// The admin API's bearer token: given, or read from (and on first start written to) `DATA_DIR/admin-token`.
struct AdminToken: Sendable {
    private let secret: [UInt8]

    init(_ token: String) {
        secret = Array(token.utf8)
    }

    /// Reads the token file, creating it with a fresh 256-bit token (mode 0600) when it does not exist.
    static func load(directory: String) throws(ServerError) -> (token: AdminToken, created: Bool) {
        let (text, created) = try SecretFile.readOrCreate(path: directory + "/admin-token", code: "admin_token")
        return (AdminToken(text), created)
    }

    /// Whether `header` is `Bearer <token>`, compared in constant time over the token's length.
    func accepts(authorization header: String?) -> Bool {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return false }
        return constantTimeEqual(Array(header.utf8.dropFirst(7)), secret)
    }
}

/// A secret kept in a file of the data directory (the admin token, the generated master passphrase).
enum SecretFile {
    /// The file's text, trimmed; a fresh 256-bit hex secret written with mode 0600 when the file does not exist.
    static func readOrCreate(path: String, code: String) throws(ServerError) -> (text: String, created: Bool) {
        var generator = SystemRandomNumberGenerator()
        let fresh = Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        // O_EXCL: a secret that already exists is never overwritten, even by two servers starting at once.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        if fd >= 0 {
            let bytes = Array((fresh + "\n").utf8)
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            let synced = fsync(fd) == 0
            close(fd)
            guard written == bytes.count, synced else { throw ServerError(.internalServerError, code, "cannot write \(path)") }
            return (fresh, true)
        }
        guard errno == EEXIST else {
            throw ServerError(.internalServerError, code, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        return (try read(path: path, code: code), false)
    }

    /// The text of the secret file at `path`, trimmed: at least 16 characters, in a file group and others cannot use.
    static func read(path: String, code: String) throws(ServerError) -> String {
        // A secret others can read is no secret: refuse it rather than serve with it.
        guard let permissions = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int else {
            throw ServerError(.internalServerError, code, "cannot read \(path)")
        }
        guard permissions & 0o077 == 0 else {
            let mode = String(permissions & 0o777, radix: 8)
            throw ServerError(.internalServerError, code, "\(path) is open to group or others (mode 0\(mode)); run `chmod 600 \(path)`")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ServerError(.internalServerError, code, "cannot read \(path)")
        }
        let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard secret.utf8.count >= 16 else {
            throw ServerError(.internalServerError, code, "\(path) holds fewer than 16 characters; delete it to generate a new one")
        }
        return secret
    }
}
