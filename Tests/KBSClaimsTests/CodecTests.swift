import Testing
@testable import KBSClaims

struct HexTests {
    @Test func encodesLowerCase() {
        #expect(Hex.encode([UInt8]()) == "")
        #expect(Hex.encode([0x00, 0x0F, 0x10, 0xAB, 0xFF]) == "000f10abff")
        #expect(Hex.encode([UInt8](arrayLiteral: 1, 2, 3)[1...]) == "0203")
    }

    @Test func roundTripsEveryByte() {
        let bytes = (0...255).map(UInt8.init)
        let text = Hex.encode(bytes)
        #expect(text.utf8.count == 512)
        #expect(Hex.decode(text) == bytes)
        #expect(Hex.decode(text.uppercased()) == bytes)
        #expect(Hex.decode(utf8: Array(text.utf8)) == bytes)
    }

    @Test("rejects what is not even-length hex", arguments: ["a", "abc", "zz", "0g", "ab cd", " ab", "ab\n", "é0", "-1"])
    func rejects(text: String) {
        #expect(Hex.decode(text) == nil)
        #expect(Hex.decode(text, prefix: .allowed) == nil)
    }

    @Test func prefix() {
        #expect(Hex.decode("") == [])
        #expect(Hex.decode("0xab") == nil)
        #expect(Hex.decode("0xab", prefix: .allowed) == [0xAB])
        #expect(Hex.decode("0XAB", prefix: .allowed) == [0xAB])
        #expect(Hex.decode("ab", prefix: .allowed) == [0xAB])
        #expect(Hex.decode("0x", prefix: .allowed) == [])
        #expect(Hex.decode("0xab", prefix: .required) == [0xAB])
        #expect(Hex.decode("0Xab", prefix: .required) == [0xAB])
        #expect(Hex.decode("ab", prefix: .required) == nil)
        #expect(Hex.decode("0xabc", prefix: .required) == nil)
        #expect(Hex.decode("0x0xab", prefix: .allowed) == nil)
        #expect(Hex.decode("0x00", prefix: .allowed) == [0x00])
    }
}
