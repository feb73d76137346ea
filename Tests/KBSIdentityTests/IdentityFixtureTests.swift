import Foundation
import KBSClaims
import KBSIdentity
import KBSPolicyTesting
import Testing

/// Every artifact under `Fixtures/identity/<kind>/` (minted by PyPI libraries no one here wrote) gets the outcome
/// its manifest records: accepted with the right subject, or refused with the right reason code.
struct IdentityFixtureTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var kind: CredentialKind
        var directory: String
        var name: String
        var credential: String
        var options: [String: String]
        var now: Date
        var expect: String
        var subject: String?
        var issuer: String?
        var reason: String?
        /// The case verified first, with the same replay state.
        var after: String?
        /// Attributes an accepted principal must carry: a string, or a list of strings.
        var attributes: [String: [String]] = [:]

        var testDescription: String { "\(kind.rawValue)/\(name)" }
    }

    static let kinds: [CredentialKind] = [.jwt, .saml, .eip191, .eip712, .siwe, .did, .hmac]

    static func loadCases() -> [Case] {
        var cases: [Case] = []
        for kind in kinds {
            let directory = RepositoryPaths.path("Fixtures/identity/\(kind.rawValue)")
            guard let data = FileManager.default.contents(atPath: directory + "/manifest.json"),
                let manifest = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { continue }
            let base = manifest["options"] as? [String: Any] ?? [:]
            let now = manifest["now"] as? String ?? ""
            for entry in manifest["cases"] as? [[String: Any]] ?? [] {
                var merged = base
                for (name, value) in entry["options"] as? [String: Any] ?? [:] {
                    if value is NSNull { merged[name] = nil } else { merged[name] = value }
                }
                var options: [String: String] = [:]
                for (name, value) in merged {
                    if let flag = value as? Bool { options[name] = flag ? "true" : "false" } else { options[name] = "\(value)" }
                }
                let time = (entry["now"] as? String) ?? now
                cases.append(
                    Case(
                        kind: kind, directory: directory, name: entry["name"] as? String ?? "?",
                        credential: entry["credential"] as? String ?? "", options: options,
                        now: Date(timeIntervalSince1970: Double(Timestamp.nanoseconds(fromRFC3339: time) ?? 0) / 1e9),
                        expect: entry["expect"] as? String ?? "", subject: entry["subject"] as? String, issuer: entry["issuer"] as? String,
                        reason: entry["reason"] as? String, after: entry["after"] as? String,
                        attributes: (entry["attributes"] as? [String: Any] ?? [:]).mapValues { ($0 as? [String]) ?? [String(describing: $0)] }))
            }
        }
        return cases
    }

    static let cases = loadCases()

    @Test func everyKindHasFixtures() {
        for kind in Self.kinds {
            #expect(Self.cases.contains { $0.kind == kind }, "no fixtures for \(kind.rawValue): run Tools/gen-identity-fixtures")
        }
    }

    /// Verifies `fixture` as its manifest says (after its `after` case, with the same replay state).
    static func outcome(of fixture: Case) async throws -> Result<Principal, IdentityError> {
        let verifier = try VerifierFactory.make(kind: fixture.kind, options: fixture.options, directory: fixture.directory)
        if let after = fixture.after, let first = Self.cases.first(where: { $0.kind == fixture.kind && $0.name == after }) {
            let bytes = try #require(FileManager.default.contents(atPath: fixture.directory + "/" + first.credential))
            _ = try await verifier.verify(Array(bytes), at: fixture.now)
        }
        let bytes = try #require(FileManager.default.contents(atPath: fixture.directory + "/" + fixture.credential))
        do throws(IdentityError) {
            return .success(try await verifier.verify(Array(bytes), at: fixture.now))
        } catch {
            return .failure(error)
        }
    }

    @Test(arguments: cases)
    func artifactGetsItsRecordedOutcome(_ fixture: Case) async throws {
        switch try await Self.outcome(of: fixture) {
        case .success(let principal):
            #expect(fixture.expect == "accept", "accepted, but the fixture expects \(fixture.reason ?? "?")")
            if let subject = fixture.subject { #expect(principal.subject == subject) }
            if let issuer = fixture.issuer { #expect(principal.issuer == issuer) }
            for (name, expected) in fixture.attributes {
                // Kinds with named attributes of their own (SAML's AttributeStatement) nest them under `attributes`.
                var actual: [String]?
                func strings(_ values: [ClaimValue]) -> [String] { values.compactMap { if case .string(let text) = $0 { text } else { nil } } }
                switch principal.attributes[name] {
                case .string(let value)?: actual = [value]
                case .list(let values)?: actual = strings(values)
                default:
                    if case .record(let table)? = principal.attributes["attributes"], case .list(let values)? = table[name] {
                        actual = strings(values)
                    }
                }
                #expect(actual == expected, "attribute `\(name)`")
            }
        case .failure(let error):
            #expect(fixture.expect == "reject", "refused (\(error)), but the fixture expects acceptance")
            if fixture.expect == "reject" { #expect(error.reason.rawValue == fixture.reason, "\(error)") }
        }
    }
}
