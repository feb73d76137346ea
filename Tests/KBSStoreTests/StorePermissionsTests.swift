import Foundation
import KBSStore
import Testing

/// The data directory and the database files hold wrapped keys, audit records and tokens: only the owner may read them.
struct StorePermissionsTests {
    static func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) & 0o7777
    }

    /// The finding: an existing data directory kept its mode (0755 here) and `kbs.sqlite` and its `-wal`/`-shm`
    /// were created with the umask's 0644. Opening the store now makes the directory 0700 and every database file 0600.
    @Test func openingTightensTheDirectoryAndTheDatabaseFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-perm-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try Self.mode(directory) == 0o755)

        let store = try Store(directory: directory)
        try store.putEntity(type: "User", id: "alice", attributesJSON: Array("{}".utf8))
        #expect(try Self.mode(directory) == 0o700)
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: directory + "/kbs.sqlite" + suffix) {
            #expect(try Self.mode(directory + "/kbs.sqlite" + suffix) == 0o600, "kbs.sqlite\(suffix)")
        }
        #expect(FileManager.default.fileExists(atPath: directory + "/kbs.sqlite-wal"))

        // Files an older build left open to others are tightened when the store is opened again.
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: directory + "/kbs.sqlite" + suffix) {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory + "/kbs.sqlite" + suffix)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        let again = try Store(directory: directory)
        #expect(try again.entity(type: "User", id: "alice") != nil)
        #expect(try Self.mode(directory) == 0o700)
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: directory + "/kbs.sqlite" + suffix) {
            #expect(try Self.mode(directory + "/kbs.sqlite" + suffix) == 0o600, "kbs.sqlite\(suffix) reopened")
        }
    }
}
