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

struct Base64URLTests {
    /// RFC 4648 §10.
    static let vectors = [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy")]

    @Test("RFC 4648 vectors", arguments: vectors)
    func rfc4648(plain: String, encoded: String) {
        let padding = String(repeating: "=", count: (4 - encoded.utf8.count % 4) % 4)
        #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
        #expect(Base64URL.decode(encoded) == Array(plain.utf8))
        #expect(Base64URL.decode(Array(encoded.utf8)) == Array(plain.utf8))
        #expect(Base64URL.encodeStandard(Array(plain.utf8)) == encoded + padding)
        #expect(Base64URL.decodeStandard(Array((encoded + padding).utf8)) == Array(plain.utf8))
        #expect(Base64URL.decodeLenient(encoded + padding) == Array(plain.utf8))
    }

    @Test func alphabets() {
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.encodeStandard([0xFB, 0xFF]) == "+/8=")
        #expect(Base64URL.decode("-_8") == [0xFB, 0xFF])
        #expect(Base64URL.decode("+/8") == nil)
        #expect(Base64URL.decodeStandard(Array("+/8=".utf8)) == [0xFB, 0xFF])
        #expect(Base64URL.decodeStandard(Array("-_8=".utf8)) == nil)
    }

    @Test("strict base64url rejects", arguments: ["Zg==", "Zm8=", "Z", "Zm9vY", "Zm 9v", "Zm9v\n", "Zh", "Zm9", "Zm!v", "é"])
    func strictRejects(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test func standardNeedsPadding() {
        #expect(Base64URL.decodeStandard(Array("Zg".utf8)) == nil)
        #expect(Base64URL.decodeStandard(Array("Zg=".utf8)) == nil)
        #expect(Base64URL.decodeStandard(Array("Zh==".utf8)) == nil)
    }

    @Test func lenient() {
        #expect(Base64URL.decodeLenient("+/8=") == [0xFB, 0xFF])
        #expect(Base64URL.decodeLenient("-_8") == [0xFB, 0xFF])
        #expect(Base64URL.decodeLenient("-_8=") == [0xFB, 0xFF])
        #expect(Base64URL.decodeLenient("Zm9v\r\nYmFy\n") == Array("foobar".utf8))
        #expect(Base64URL.decodeLenient("Zh") == [0x66])
        #expect(Base64URL.decodeLenient("a") == nil)
        #expect(Base64URL.decodeLenient("ab=c") == nil)
        #expect(Base64URL.decodeLenient("Zg===") == nil)
        #expect(Base64URL.decodeLenient("!!!!") == nil)
        #expect(Base64URL.decodeLenient("Zm 9v") == nil)
    }

    @Test func roundTripsEveryLength() {
        for count in 0...66 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
            #expect(Base64URL.decodeStandard(Array(Base64URL.encodeStandard(bytes).utf8)) == bytes)
        }
    }
}

struct ConstantTimeTests {
    @Test func equalInput() {
        #expect(constantTimeEqual([UInt8](), [UInt8]()))
        #expect(constantTimeEqual([1, 2, 3] as [UInt8], [1, 2, 3] as [UInt8]))
        #expect(constantTimeEqual(Array("secret".utf8), "secret".utf8))
        #expect(constantTimeEqual(([0, 1, 2, 3] as [UInt8])[1...], [1, 2, 3] as [UInt8]))
    }

    @Test func unequalInput() {
        #expect(!constantTimeEqual([1, 2, 3] as [UInt8], [0, 2, 3] as [UInt8]))
        #expect(!constantTimeEqual([1, 2, 3] as [UInt8], [1, 2, 4] as [UInt8]))
        #expect(!constantTimeEqual([0x80] as [UInt8], [0x00] as [UInt8]))
    }

    @Test func differentLengths() {
        #expect(!constantTimeEqual([1, 2] as [UInt8], [1, 2, 3] as [UInt8]))
        #expect(!constantTimeEqual([1, 2, 3] as [UInt8], [1, 2] as [UInt8]))
        #expect(!constantTimeEqual([UInt8](), [0] as [UInt8]))
        #expect(!constantTimeEqual([0] as [UInt8], [UInt8]()))
        // A shorter guess is not padded into a match by the zeros it is compared with.
        #expect(!constantTimeEqual([1] as [UInt8], [1, 0] as [UInt8]))
    }
}

struct RFC3339Tests {
    @Test(
        "instants",
        arguments: [
            (Int64(0), "1970-01-01T00:00:00Z"),
            (1_700_000_000_000_000_000, "2023-11-14T22:13:20Z"),
            (1_709_208_000_000_000_000, "2024-02-29T12:00:00Z"),
            (951_782_400_000_000_000, "2000-02-29T00:00:00Z"),
            (1_700_000_000_500_000_000, "2023-11-14T22:13:20.5Z"),
            (1_700_000_000_123_456_789, "2023-11-14T22:13:20.123456789Z"),
            (1_700_000_000_000_001_000, "2023-11-14T22:13:20.000001Z"),
            (-1, "1969-12-31T23:59:59.999999999Z"),
            (-86_400_000_000_000, "1969-12-31T00:00:00Z"),
            (Int64.max, "2262-04-11T23:47:16.854775807Z"),
        ])
    func formats(nanos: Int64, text: String) {
        #expect(Timestamp.rfc3339(nanos) == text)
        #expect(Timestamp.parse(text) == nanos)
    }

    @Test func dateAndTime() {
        #expect(Timestamp.dateAndTime(seconds: 0) == "1970-01-01T00:00:00")
        #expect(Timestamp.dateAndTime(seconds: 1_700_000_000) == "2023-11-14T22:13:20")
        #expect(Timestamp.dateAndTime(seconds: 1_709_251_199) == "2024-02-29T23:59:59")
        #expect(Timestamp.dateAndTime(seconds: 1_709_251_200) == "2024-03-01T00:00:00")
    }
}

struct JSONStringTests {
    @Test func escapes() {
        #expect(JSONString.quote("plain é ✓") == "\"plain é ✓\"")
        #expect(JSONString.quote("a\"b\\c\nd\re\tf\u{1}g\u{1F}h\u{7F}i/") == #""a\"b\\c\nd\re\tf\u0001g\u001fh\u007fi/""#)
        #expect(JSONString.quote("") == "\"\"")
    }

    @Test("bytes and string agree", arguments: ["", "plain", "é\u{0}\"\\\n\u{7F}✓", "\u{8}\u{C}", "tail\\"])
    func appendMatchesQuote(text: String) {
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        JSONString.append(text, to: &bytes)
        #expect(bytes == [UInt8(ascii: "[")] + Array(JSONString.quote(text).utf8))
    }
}
