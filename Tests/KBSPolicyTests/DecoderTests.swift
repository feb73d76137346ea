import Foundation
import KBSClaims
import Testing

@testable import KBSPolicy

struct DecoderTests {
    @Test func jsonTreeRejectsDuplicatesAndTrailingData() {
        #expect(throws: JSONError.self) { try JSONNode.parse(Array(#"{"a":1,"a":2}"#.utf8)) }
        #expect(throws: JSONError.self) { try JSONNode.parse(Array("[1] x".utf8)) }
        #expect(throws: JSONError.self) { try JSONNode.parse(Array("[1,]".utf8)) }
        #expect(throws: JSONError.self) { try JSONNode.parse(Array("01".utf8)) }
        #expect(throws: JSONError.self) { try JSONNode.parse([0x22, 0xFF, 0x22]) }
        #expect(throws: JSONError.self) { try JSONNode.parse(Array(#""\ud800""#.utf8)) }
    }

    @Test func escapesAndUnicode() throws {
        let node = try JSONNode.parse(Array(#""a\n\u00e9\ud83d\ude00""#.utf8))
        #expect(node.stringValue == "a\né😀")
    }

    @Test func timestampsRoundTrip() {
        for text in ["2026-01-31T12:00:00Z", "1969-12-31T23:59:59Z", "2024-02-29T00:00:00.5Z"] {
            #expect(Timestamp.parse(text).map(Timestamp.format) == text)
        }
        #expect(Timestamp.parse("2026-01-31T12:00:00+01:00") == Timestamp.parse("2026-01-31T11:00:00Z"))
        #expect(Timestamp.parse("2025-02-29T00:00:00Z") == nil)
        #expect(Timestamp.parse("2026-01-31 12:00:00Z") == nil)
    }

    @Test func versionsCompareNumerically() {
        #expect(Version("1.10")! > Version("1.9")!)
        #expect(Version("1.2")! == Version("1.2.0")!)
        #expect(Version("2.0-rc1")! < Version("2.0")!)
        #expect(Version("1..2") == nil)
    }

    @Test func durations() {
        #expect(DurationParser.parse("1h30m") == 5_400_000_000_000)
        #expect(DurationParser.parse("90") == nil)
        #expect(DurationText.format(5_400_000_000_000) == "1h30m")
    }
}
