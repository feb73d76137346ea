import Testing

@testable import KBSKeys

struct ShamirTests {
    @Test func anyThreeOfFiveSharesReconstruct() throws {
        let secret = SecretBytes.random(count: 32)
        let shares = try Shamir.split(secret, threshold: 3, count: 5)
        #expect(shares.map(\.index) == [1, 2, 3, 4, 5])
        let triples = subsets(shares, size: 3)
        #expect(triples.count == 10)
        for subset in triples {
            let rebuilt = try Shamir.combine(subset)
            #expect(copied(rebuilt) == copied(secret), "shares \(subset.map(\.index))")
        }
        // More than the threshold works too.
        #expect(copied(try Shamir.combine(shares.reversed())) == copied(secret))
    }

    @Test func twoOfAThreeThresholdFail() async throws {
        let shares = try Shamir.split(SecretBytes.random(count: 32), threshold: 3, count: 5)
        await expectKeyError(.shares) { _ = try Shamir.combine(Array(shares.prefix(2))) }
        // A repeated share does not count twice.
        await expectKeyError(.shares) { _ = try Shamir.combine([shares[0], shares[1], shares[1]]) }
    }

    @Test func badSplitsAreRefused() async {
        let secret = SecretBytes.random(count: 32)
        await expectKeyError(.invalidArgument) { _ = try Shamir.split(secret, threshold: 1, count: 5) }
        await expectKeyError(.invalidArgument) { _ = try Shamir.split(secret, threshold: 6, count: 5) }
        await expectKeyError(.invalidArgument) { _ = try Shamir.split(secret, threshold: 3, count: 256) }
    }

    @Test func sharesRoundTripThroughTextAndChecksumCatchesTypos() async throws {
        let shares = try Shamir.split(SecretBytes.random(count: 32), threshold: 2, count: 3)
        for share in shares {
            #expect(try ShamirShare(encoded: share.encoded) == share)
        }
        var text = Array(shares[0].encoded.utf8)
        let position = text.count - 20
        text[position] = text[position] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        await expectKeyError(.shares) { _ = try ShamirShare(encoded: String(decoding: text, as: UTF8.self)) }
        await expectKeyError(.malformed) { _ = try ShamirShare(encoded: "kbs-share-v1-zz") }
        await expectKeyError(.malformed) { _ = try ShamirShare(encoded: "share") }
    }
}
