import Foundation
import KBSClaims
import KBSPolicyTesting
import Testing

@testable import KBSIdentity

/// `SigV4Verifier` against requests botocore signed (`Fixtures/identity/sigv4/vectors.json`, minted by
/// `Tools/gen-identity-fixtures sigv4` as boto3 sends them) and altered copies: each accepted for the right key and
/// region, or refused with the recorded reason.
struct SigV4VerifierTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var request: SigV4Verifier.Request
        var expect: String
        var reason: String?
        var region: String?
        var accessKey: String?
        var securityToken: String?

        var testDescription: String { name }
    }

    struct Vectors: Sendable {
        var now: Date
        var keys: [String: SigV4Verifier.Key]
        var cases: [Case]
    }

    static let vectors: Vectors = {
        let path = RepositoryPaths.path("Fixtures/identity/sigv4/vectors.json")
        guard let data = FileManager.default.contents(atPath: path), let root = try? JSONNode.parse(Array(data)),
            let nanoseconds = root["now"]?.stringValue.flatMap(Timestamp.parse), case .array(let keyList)? = root["keys"]?.value,
            case .array(let caseList)? = root["cases"]?.value
        else { return Vectors(now: Date(), keys: [:], cases: []) }
        var keys: [String: SigV4Verifier.Key] = [:]
        for key in keyList {
            guard let id = key["access_key"]?.stringValue, let secret = key["secret"]?.stringValue, let subject = key["subject"]?.stringValue
            else { continue }
            keys[id] = SigV4Verifier.Key(secret: Array(secret.utf8), subject: subject)
        }
        let cases = caseList.compactMap { node -> Case? in
            guard let name = node["name"]?.stringValue, let expect = node["expect"]?.stringValue, let request = node["request"],
                let method = request["method"]?.stringValue, let path = request["path"]?.stringValue,
                case .array(let lines)? = request["headers"]?.value, let body = request["body"]?.stringValue
            else { return nil }
            let headers = lines.compactMap { line -> (name: String, value: String)? in
                guard case .array(let pair) = line.value, pair.count == 2, let name = pair[0].stringValue, let value = pair[1].stringValue
                else { return nil }
                return (name, value)
            }
            return Case(
                name: name,
                request: SigV4Verifier.Request(
                    method: method, path: path, query: request["query"]?.stringValue, headers: headers, body: Array(body.utf8)),
                expect: expect, reason: node["reason"]?.stringValue, region: node["region"]?.stringValue,
                accessKey: node["access_key"]?.stringValue, securityToken: node["security_token"]?.stringValue)
        }
        return Vectors(now: Date(timeIntervalSince1970: Double(nanoseconds) / 1e9), keys: keys, cases: cases)
    }()

    static func verifier() -> SigV4Verifier {
        let keys = vectors.keys
        return SigV4Verifier(service: "kms") { id throws(IdentityError) in keys[id] }
    }

    @Test func vectorsLoad() {
        #expect(Self.vectors.cases.count >= 20)
        #expect(Self.vectors.keys.count == 2)
    }

    @Test(arguments: vectors.cases)
    func vector(_ testCase: Case) async throws {
        let verifier = Self.verifier()
        if testCase.expect == "accept" {
            let verified = try await verifier.verify(testCase.request, at: Self.vectors.now)
            #expect(Self.vectors.keys[verified.keyID] != nil)
            if let accessKey = testCase.accessKey { #expect(verified.keyID == accessKey) }
            #expect(verified.principal.subjectID == "apikey:\(verified.keyID)" && verified.principal.method == .apiKey)
            #expect(verified.region == testCase.region)
            #expect(verified.securityToken == testCase.securityToken)
        } else {
            do {
                _ = try await verifier.verify(testCase.request, at: Self.vectors.now)
                Issue.record("\(testCase.name) was accepted; expected \(testCase.reason ?? "")")
            } catch {
                #expect(error.reason.rawValue == testCase.reason, "\(error.message)")
            }
        }
    }

    @Test("a revoked key signs nothing: the lookup's refusal is the verifier's")
    func revokedKey() async throws {
        let verifier = SigV4Verifier(service: "kms") { _ throws(IdentityError) in throw IdentityError(.revoked, "the API key was revoked") }
        let accepted = try #require(Self.vectors.cases.first { $0.name == "boto3_encrypt" })
        do {
            _ = try await verifier.verify(accepted.request, at: Self.vectors.now)
            Issue.record("a revoked key was accepted")
        } catch {
            #expect(error.reason == .revoked)
        }
    }

    @Test("canonical pieces: unreserved characters kept, others percent-encoded once more; query pairs sorted")
    func canonicalPieces() {
        #expect(SigV4Verifier.canonicalURI("/a%20b/c~d") == "/a%2520b/c~d")
        #expect(SigV4Verifier.canonicalURI("") == "/")
        #expect(SigV4Verifier.canonicalQuery("b=2&a=1&a=0&empty=") == "a=0&a=1&b=2&empty=")
        #expect(SigV4Verifier.trimmed("  a   b\tc ") == "a b c")
        #expect(SigV4Verifier.amzDate("20261125T120000Z") == 1_795_608_000)
        #expect(SigV4Verifier.amzDate("2026-11-25T12:00:00Z") == nil)
    }
}
