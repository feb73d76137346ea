import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// Shared helpers for the TDX and SGX suites.
enum DCAP {
    static let root = "tdx/go-tdx-guest-trusted_root.pem"
    static let signingChain = "tdx/extracted-go-tdx-guest-tcb-signing-issuer-chain.pem"
    static let pckCRLChain = "tdx/extracted-go-tdx-guest-pck-crl-issuer-chain.pem"
    static let tcbInfo2023 = "tdx/go-tdx-guest-sample_tcbInfo_response"
    static let tcbInfoV5 = "tdx/go-tdx-guest-sample_tcbinfo_response_v5"
    static let qeIdentity2023 = "tdx/go-tdx-guest-sample_qeIdentity_response"

    static func context(
        at time: String, endorsements: [String] = [], anchors: [String] = [root], reportData: [UInt8]? = nil,
        ignoresSignerExpiry: Bool = false
    ) throws -> VerificationContext {
        var context = try EvidenceFixtures.context(at: time, endorsements: endorsements, anchors: anchors, reportData: reportData)
        context.ignoresCollateralSignerExpiry = ignoresSignerExpiry
        return context
    }

    static func verify(_ evidence: [UInt8], kind: EvidenceKind, _ context: VerificationContext) async throws(EvidenceError) -> VerifiedEvidence {
        try await EvidenceVerifiers.verify(evidence, kind: kind, context: context)
    }

    /// Verifies and records an issue unless it fails with `reason`.
    static func expectRefusal(
        _ evidence: [UInt8], kind: EvidenceKind, _ context: VerificationContext, _ reason: EvidenceErrorReason,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        let error = await evidenceError { () async throws(EvidenceError) -> VerifiedEvidence in try await verify(evidence, kind: kind, context) }
        #expect(error?.reason == reason, "\(error.map(\.description) ?? "verified")", sourceLocation: sourceLocation)
    }

    static func hex(_ value: ClaimValue?) -> String? {
        if case .hex(let bytes) = value { return Hex.encode(bytes) }
        return nil
    }

    static func string(_ value: ClaimValue?) -> String? {
        if case .string(let text) = value { return text }
        return nil
    }

    static func int(_ value: ClaimValue?) -> Int64? {
        if case .int(let number) = value { return number }
        return nil
    }

    static func bool(_ value: ClaimValue?) -> Bool? {
        if case .bool(let flag) = value { return flag }
        return nil
    }

    /// Every field of `record` is in `schema` with the same type; every required field is set.
    static func expectMatches(_ record: ClaimRecord, _ schema: RecordType, sourceLocation: SourceLocation = #_sourceLocation) {
        for field in record.fields {
            guard let declared = schema.fields.first(where: { $0.name == field.name }) else {
                Issue.record("claim \(field.name) is not in the schema", sourceLocation: sourceLocation)
                continue
            }
            #expect(conforms(field.value, declared.type), "claim \(field.name) is not \(declared.type)", sourceLocation: sourceLocation)
        }
        for field in schema.fields where !field.isOptional {
            #expect(record[field.name] != nil, "required claim \(field.name) is missing", sourceLocation: sourceLocation)
        }
    }

    static func conforms(_ value: ClaimValue, _ type: ClaimType) -> Bool {
        switch (value, type) {
        case (.bool, .bool), (.int, .int), (.string, .string), (.hex, .hex), (.time, .time): true
        case (.list(let values), .list(let element)): values.allSatisfy { conforms($0, element) }
        case (.record(let record), .record(let recordType)):
            record.fields.allSatisfy { field in recordType.fields.first { $0.name == field.name }.map { conforms(field.value, $0.type) } ?? false }
        default: false
        }
    }

    /// Positions to flip: up to `count` spread evenly over `range`, plus its ends.
    static func sample(_ range: Range<Int>, count: Int) -> [Int] {
        guard !range.isEmpty else { return [] }
        let step = max(1, range.count / count)
        var positions = Array(stride(from: range.lowerBound, to: range.upperBound, by: step))
        positions.append(range.upperBound - 1)
        return positions
    }

    /// Flips one byte at each sampled position of every signed or signature-checked part of `quote`, expecting a
    /// refusal each time.
    static func expectFlipsRefused(_ quote: [UInt8], kind: EvidenceKind, _ context: VerificationContext, perPart: Int = 40) async throws {
        let parsed = try DCAPQuote(quote)
        let signedEnd = parsed.signedRegion.endIndex
        let data = parsed.signatureDataRange
        func locate(_ part: [UInt8]) -> Range<Int>? {
            guard !part.isEmpty, part.count <= data.count else { return nil }
            for start in data.lowerBound...(data.upperBound - part.count)
            where quote[start] == part[0] && Array(quote[start..<start + part.count]) == part {
                return start..<start + part.count
            }
            return nil
        }
        var parts: [(String, [Int])] = [("header+body", sample(0..<signedEnd, count: perPart * 3))]
        for (name, bytes) in [
            ("quote signature", parsed.signature), ("attestation key", parsed.attestationKey), ("QE report", parsed.qeReport),
            ("QE report signature", parsed.qeReportSignature), ("QE auth data", parsed.qeAuthData), ("PCK chain", parsed.pckChainPEM),
        ] {
            guard let range = locate(bytes) else {
                if !bytes.isEmpty { Issue.record("could not find \(name) in the quote") }
                continue
            }
            var positions = sample(range, count: perPart)
            if name == "PCK chain" {
                // Only the base64 bodies carry the certificates: text outside the PEM blocks (a trailing NUL or
                // newline) is not vouched for, and a character just before `=` padding may hold only unused bits.
                let base64 = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8))
                let lines = Set(Array("-BEGIN CERTIFICATE".utf8))
                positions = sample(range, count: perPart * 4).filter { position in
                    guard base64.contains(quote[position]), position + 1 < quote.count, quote[position + 1] != UInt8(ascii: "=") else { return false }
                    // Skip the BEGIN/END lines' letters too: they are checked, but as labels, not as signed bytes.
                    let lineStart = quote[..<position].lastIndex(of: 0x0A).map { $0 + 1 } ?? range.lowerBound
                    return !(quote[max(lineStart, range.lowerBound)] == UInt8(ascii: "-") && lines.contains(quote[position]))
                }
            }
            parts.append((name, positions))
        }
        var tried = 0
        for (name, positions) in parts {
            for position in positions {
                var flipped = quote
                flipped[position] ^= 0x01
                tried += 1
                let error = await evidenceError { () async throws(EvidenceError) -> VerifiedEvidence in try await verify(flipped, kind: kind, context)
                }
                #expect(error != nil, "flipping byte \(position) (\(name)) still verified")
            }
        }
        #expect(tried > 100)
    }
}
