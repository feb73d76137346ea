import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// Refusals without crashes: flipped bytes, truncation, garbage, wrong tags, deep nesting; and the CBOR subset.
struct CCARobustnessTests {
    static let valid: [(token: String, anchor: String)] = [
        ("trustee-cca-example-token.cbor", "trustee-tastore.json"),
        ("rust-ccatoken-cca-token-01.cbor", "rust-ccatoken-ta-tfa.json"),
        ("rust-ccatoken-cca-token-02.cbor", "rust-ccatoken-ta-02-ok.json"),
        ("rust-ccatoken-cca-token-draft-ffm-00.cbor", "rust-ccatoken-ta-tfa.json"),
    ]

    static func context(_ anchor: String) throws -> VerificationContext {
        try EvidenceFixtures.context(at: CCAFixtures.time, anchors: ["cca/" + anchor])
    }

    /// Every byte of the token is either structure (a change breaks the parse) or covered by one of the two
    /// signatures (protected header, payload) or is a signature: flipping any one is refused. Sampled at half the
    /// positions to keep the debug-build run short; every position passed when this was written.
    @Test(arguments: valid.map(\.token))
    func everyFlippedByteIsRefused(_ token: String) async throws {
        let anchor = Self.valid.first { $0.token == token }?.anchor ?? ""
        let context = try Self.context(anchor)
        let bytes = try EvidenceFixtures.bytes("cca/" + token)
        var accepted: [Int] = []
        // Every structural byte at the start, then every other byte (alternating low and high bit) to the end.
        for position in bytes.indices where position < 32 || position % 2 == 0 {
            var flipped = bytes
            flipped[position] ^= position % 4 == 0 ? 0x01 : 0x80
            if await CCAFixtures.refusal(flipped, context: context) == nil { accepted.append(position) }
        }
        #expect(accepted.isEmpty, "flips accepted at \(accepted)")
    }

    /// Random multi-byte edits, insertions and deletions: always refused, never a trap.
    @Test func randomMutationsAreRefused() async throws {
        var generator = CCASeededGenerator(seed: 18)
        for (token, anchor) in Self.valid {
            let context = try Self.context(anchor)
            let bytes = try EvidenceFixtures.bytes("cca/" + token)
            for _ in 0..<150 {
                var mutated = bytes
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    let position = Int.random(in: 0..<mutated.count, using: &generator)
                    switch Int.random(in: 0..<3, using: &generator) {
                    case 0: mutated[position] = UInt8.random(in: 0...255, using: &generator)
                    case 1: mutated.insert(UInt8.random(in: 0...255, using: &generator), at: position)
                    default: if mutated.count > 1 { mutated.remove(at: position) }
                    }
                }
                guard mutated != bytes else { continue }
                #expect(await CCAFixtures.refusal(mutated, context: context) != nil, "\(token) mutated was accepted")
            }
        }
    }

    @Test func truncatedEmptyGarbageAndWrongKindAreMalformed() async throws {
        let context = try Self.context("trustee-tastore.json")
        let token = try EvidenceFixtures.bytes("cca/trustee-cca-example-token.cbor")
        var inputs: [[UInt8]] = [[], [0x00], [0xd9], [0xd9, 0x01, 0x8f], Array("garbage".utf8), [UInt8](repeating: 0xff, count: 100)]
        for length in [1, 2, 3, 4, 10, token.count / 2, token.count - 97, token.count - 1] { inputs.append(Array(token.prefix(length))) }
        inputs.append(token + [0x00])
        inputs.append(try EvidenceFixtures.bytes("snp/trustee-test-report.bin"))
        inputs.append(try EvidenceFixtures.bytes("cca/trustee-tastore.json"))
        var generator = CCASeededGenerator(seed: 399)
        for _ in 0..<50 { inputs.append((0..<Int.random(in: 1...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
        for input in inputs {
            let error = await CCAFixtures.refusal(input, context: context)
            #expect(error?.reason == .malformed, "input \(Hex.encode(input.prefix(16))): \(String(describing: error))")
        }
    }

    /// Tag 398, no tag, and a COSE_Sign1 handed in place of the collection are malformed.
    @Test func wrongTagsAreMalformed() async throws {
        let context = try Self.context("trustee-tastore.json")
        let token = try EvidenceFixtures.bytes("cca/trustee-cca-example-token.cbor")
        #expect(Array(token.prefix(3)) == [0xd9, 0x01, 0x8f])
        var wrongTag = token
        wrongTag[2] = 0x8e
        let untagged = Array(token.dropFirst(3))
        let platform = try CCAToken(token).platform
        var untaggedSign1 = token
        // The platform COSE_Sign1 alone (tag 18), and the collection with the realm's tag 18 turned into tag 17.
        let realmTagOffset = try #require(Self.offset(of: [0x59, 0x02, 0xc3, 0xd2], in: token)) + 3
        untaggedSign1[realmTagOffset] = 0xd1
        for input in [wrongTag, untagged, platform, untaggedSign1] {
            let error = await CCAFixtures.refusal(input, context: context)
            #expect(error?.reason == .malformed, "\(String(describing: error))")
        }
    }

    @Test func deepNestingAndHugeLengthsAreMalformedWithoutACrash() async throws {
        let context = try Self.context("trustee-tastore.json")
        let inputs: [[UInt8]] = [
            [0xd9, 0x01, 0x8f] + [UInt8](repeating: 0x81, count: 60_000) + [0x00],
            [UInt8](repeating: 0xc6, count: 60_000) + [0x00],
            [UInt8](repeating: 0xa1, count: 30_000) + [0x00],
            [0xd9, 0x01, 0x8f, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            [0xd9, 0x01, 0x8f, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            [0xd9, 0x01, 0x8f, 0xbb, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            [0xd9, 0x01, 0x8f, 0xbf, 0x19, 0xac, 0xca, 0x40, 0xff],
            [0xd9, 0x01, 0x8f, 0xa2, 0x19, 0xac, 0xca, 0x40, 0x19, 0xac, 0xca, 0x40],
            [0xd9, 0x01, 0x8f, 0xa1, 0x19, 0xac, 0xca, 0x5f, 0x41, 0x00, 0xff],
            [0xd9, 0x01, 0x8f, 0xa0],
            [UInt8](repeating: 0, count: CBORDecoder.maximumSize + 1),
        ]
        for input in inputs {
            let error = await CCAFixtures.refusal(input, context: context)
            #expect(error?.reason == .malformed, "input \(Hex.encode(input.prefix(16))): \(String(describing: error))")
        }
    }

    @Test func cborDecoderSubset() throws {
        #expect(try CBORDecoder.decode([0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], what: "t") == .unsigned(.max))
        #expect(try CBORDecoder.decode([0x38, 0x22], what: "t").integer == -35)
        #expect(try CBORDecoder.decode([0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], what: "t").integer == nil)
        #expect(try CBORDecoder.decode([0x63, 0x61, 0x62, 0x63], what: "t") == .text("abc"))
        #expect(try CBORDecoder.decode([0xf5], what: "t") == .bool(true))
        #expect(try CBORDecoder.decode([0xf9, 0x3c, 0x00], what: "t") == .float(0x3c00))
        #expect(try CBORDecoder.decode([0xa2, 0x01, 0x02, 0x20, 0x03], what: "t")[-1] == .unsigned(3))
        for bad: [UInt8] in [
            [0x62, 0xc3, 0x28],  // not UTF-8
            [0xa2, 0x01, 0x02, 0x01, 0x03],  // duplicate key
            [0xf8, 0x10],  // two-byte simple value below 32
            [0x1c], [0x5f, 0xff], [0xff], [0x18], [0x82, 0x01], [0x01, 0x02],
        ] {
            #expect(throws: EvidenceError(.malformed, ""), "\(Hex.encode(bad))") { try Self.decodeReason(bad) }
        }
    }

    /// The Sig_structure head encodings are the shortest forms.
    @Test func canonicalHeads() {
        #expect(CBOREncoder.head(2, 23) == [0x57])
        #expect(CBOREncoder.head(2, 24) == [0x58, 24])
        #expect(CBOREncoder.head(2, 1402) == [0x59, 0x05, 0x7a])
        #expect(CBOREncoder.head(2, 70_000) == [0x5a, 0x00, 0x01, 0x11, 0x70])
        #expect(CBOREncoder.head(0, 1 << 32) == [0x1b, 0, 0, 0, 1, 0, 0, 0, 0])
        #expect(CBOREncoder.text("Signature1") == [0x6a] + Array("Signature1".utf8))
    }

    /// The `details` of every valid sample conform to the schema: same names, same types, required ones present.
    @Test(arguments: valid.map(\.token))
    func detailsMatchSchema(_ token: String) async throws {
        let anchor = Self.valid.first { $0.token == token }?.anchor ?? ""
        let verified = try await CCAFixtures.verify(token, anchors: [anchor])
        let problems = Self.check(.record(verified.details), against: .record(CCAVerifier.claimSchema.record), path: "cca")
        #expect(problems.isEmpty, "\(problems)")
        #expect(CCAVerifier().schema == CCAVerifier.claimSchema)
    }

    static func check(_ value: ClaimValue, against type: ClaimType, path: String) -> [String] {
        switch (value, type) {
        case (.bool, .bool), (.int, .int), (.string, .string), (.hex, .hex), (.time, .time): return []
        case (.list(let elements), .list(let element)):
            return elements.enumerated().flatMap { check($1, against: element, path: "\(path)[\($0)]") }
        case (.record(let record), .record(let recordType)):
            var problems: [String] = []
            for field in record.fields {
                guard let declared = recordType.field(named: field.name) else {
                    problems.append("\(path).\(field.name) is not in the schema")
                    continue
                }
                problems += check(field.value, against: declared.type, path: "\(path).\(field.name)")
            }
            for declared in recordType.fields where !declared.isOptional && record[declared.name] == nil {
                problems.append("\(path).\(declared.name) is required but absent")
            }
            return problems
        default:
            return ["\(path) is \(value.json), not \(type)"]
        }
    }

    static func decodeReason(_ bytes: [UInt8]) throws(EvidenceError) {
        do { _ = try CBORDecoder.decode(bytes, what: "t") } catch { throw EvidenceError(error.reason, "") }
    }

    static func offset(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<$0 + needle.count]) == needle }
    }
}

/// A deterministic generator (SplitMix64) so garbage inputs repeat across runs.
struct CCASeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
