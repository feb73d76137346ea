import Crypto
import Foundation
import KBSClaims
import KBSEvidence
import Testing

/// RFC 8785 (JSON Canonicalization Scheme) with its published test vectors, and the report-data binding on top.
struct JCSTests {
    /// RFC 8785 §3.2.2's example: literals, numbers and string escaping.
    @Test func rfc8785Example() throws {
        let input = #"""
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """#
        let output = try JCS.canonicalize(Array(input.utf8))
        #expect(
            String(decoding: output, as: UTF8.self)
                == #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#)
    }

    /// RFC 8785 §3.2.3: members sorted by UTF-16 code units, so U+1F600 (a surrogate pair) sorts before U+FB33.
    @Test func sortsByUTF16CodeUnits() throws {
        let input =
            #"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#
        let output = String(decoding: try JCS.canonicalize(Array(input.utf8)), as: UTF8.self)
        let values = [
            "Carriage Return", "One", "Control", "Latin Small Letter O With Diaeresis", "Euro Sign",
            "Emoji: Grinning Face", "Hebrew Letter Dalet With Dagesh",
        ]
        var last = output.startIndex
        for value in values {
            let range = try #require(output.range(of: value), "\(value) missing")
            #expect(range.lowerBound > last, "\(value) out of order in \(output)")
            last = range.lowerBound
        }
    }

    /// RFC 8785 Appendix B: IEEE 754 doubles and their ECMAScript serialisations.
    @Test(arguments: [
        (UInt64(0x0000_0000_0000_0000), "0"), (0x8000_0000_0000_0000, "0"), (0x0000_0000_0000_0001, "5e-324"),
        (0x8000_0000_0000_0001, "-5e-324"), (0x7fef_ffff_ffff_ffff, "1.7976931348623157e+308"),
        (0xffef_ffff_ffff_ffff, "-1.7976931348623157e+308"), (0x4340_0000_0000_0000, "9007199254740992"),
        (0xc340_0000_0000_0000, "-9007199254740992"), (0x4430_0000_0000_0000, "295147905179352830000"),
        (0x44b5_2d02_c7e1_4af5, "9.999999999999997e+22"), (0x44b5_2d02_c7e1_4af6, "1e+23"),
        (0x44b5_2d02_c7e1_4af7, "1.0000000000000001e+23"), (0x444b_1ae4_d6e2_ef4e, "999999999999999700000"),
        (0x444b_1ae4_d6e2_ef4f, "999999999999999900000"), (0x444b_1ae4_d6e2_ef50, "1e+21"),
        (0x3eb0_c6f7_a0b5_ed8c, "9.999999999999997e-7"), (0x3eb0_c6f7_a0b5_ed8d, "0.000001"),
        (0x41b3_de43_5555_5553, "333333333.3333332"), (0x41b3_de43_5555_5554, "333333333.33333325"),
        (0x41b3_de43_5555_5555, "333333333.3333333"), (0x41b3_de43_5555_5556, "333333333.3333334"),
        (0x41b3_de43_5555_5557, "333333333.33333343"), (0xbecb_f647_612f_3696, "-0.0000033333333333333333"),
        (0x4314_3ff3_c1cb_0959, "1424953923781206.2"),
    ])
    func numbers(_ bits: UInt64, _ expected: String) throws {
        let value = Double(bitPattern: bits)
        #expect(try JCS.number(value.description) == expected)
        #expect(try JCS.number(String(format: "%.17g", value)) == expected)
    }

    @Test func refusesWhatJSONCannotCarry() {
        #expect(throws: JCSError.self) { try JCS.canonicalize(Array(#"{"a":1,"a":2}"#.utf8)) }
        #expect(throws: JCSError.self) { try JCS.canonicalize(Array("[1e400]".utf8)) }
        #expect(throws: JCSError.self) { try JCS.canonicalize(Array("{} x".utf8)) }
    }

    /// Trustee's own vector (attestation-service `parse_runtime_data`): SHA-384 of the canonical form.
    @Test func trusteeRuntimeDataVector() throws {
        let canonical = try JCS.canonicalize(Array(#"{"b":1,"a":"test","c":{"d":"e"}}"#.utf8))
        #expect(String(decoding: canonical, as: UTF8.self) == #"{"a":"test","b":1,"c":{"d":"e"}}"#)
        let digest = Hex.encode(Array(SHA384.hash(data: canonical)))
        #expect(digest == "e71ce8e70d814ba6639c3612ebee0ff1f76f650f8dbb5e47157e0f3f525cd22c4597480a186427c813ca941da78870c3")
    }

    /// The fit per kind: SNP pads the 48-byte digest to 64, NVIDIA cuts it to the 32-byte nonce, TPM keeps it.
    @Test func reportDataFitPerKind() throws {
        let runtime = Array(#"{"nonce":"abc","tee-pubkey":{"kty":"EC"}}"#.utf8)
        let digest = Array(SHA384.hash(data: try JCS.canonicalize(runtime)))
        let snp = try ReportDataBinding.expected(runtimeData: runtime, kind: .snp)
        #expect(snp == digest + [UInt8](repeating: 0, count: 16))
        #expect(try ReportDataBinding.expected(runtimeData: runtime, kind: .nvidia) == Array(digest.prefix(32)))
        #expect(try ReportDataBinding.expected(runtimeData: runtime, kind: .tpm) == digest)
        #expect(try ReportDataBinding.expected(runtimeData: runtime, hash: .sha512, kind: .tdx).count == 64)
    }
}
