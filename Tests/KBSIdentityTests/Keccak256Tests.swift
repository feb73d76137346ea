import Foundation
import KBSIdentity
import KBSPolicyTesting
import Testing

struct Keccak256Tests {
    struct Vector: Decodable, CustomTestStringConvertible {
        var name: String
        var messageHex: String
        var digest: String
        var testDescription: String { name }

        enum CodingKeys: String, CodingKey {
            case name, digest
            case messageHex = "message_hex"
        }
    }

    static let vectors: [Vector] = {
        struct File: Decodable { var cases: [Vector] }
        guard let data = FileManager.default.contents(atPath: RepositoryPaths.path("Fixtures/identity/keccak256.json")),
            let file = try? JSONDecoder().decode(File.self, from: data)
        else { return [] }
        return file.cases
    }()

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func bytes(_ hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return result
    }

    @Test func publishedVectors() {
        // The values every Ethereum library agrees on; SHA3-256("") would be a7ffc6f8….
        #expect(Self.hex(Keccak256.hash([UInt8]())) == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
        #expect(Self.hex(Keccak256.hash(Array("abc".utf8))) == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")
    }

    @Test func theFixtureIsThere() {
        #expect(Self.vectors.count == 15, "Fixtures/identity/keccak256.json is missing or unreadable; run Tools/gen-keccak-vectors")
    }

    @Test(arguments: vectors) func pycryptodomeVectors(_ vector: Vector) {
        #expect(Self.hex(Keccak256.hash(Self.bytes(vector.messageHex))) == vector.digest)
    }
}
