import Foundation
import Testing
@testable import KBSPolicy

struct EvaluationTests {
    static let policy = """
        type Binding = { role: string, path: string }
        input {
          kind: string
          tcb: int
          roles: list<Binding>
          path: string
          version: version
          issued: time
          limits?: map<int>
        }
        data floor: map<int>

        permit good when {
          let minimum = data.floor[kind]
          tcb >= minimum
          any b in roles: b.role == "reader" and path matches b.path
        } with {
          ttl = 10m
        }

        permit also_good when {
          kind == "special"
          all b in roles: b.role != "banned"
          version >= v"2.1"
          issued + 1h > now()
        } with {
          ttl = 1m
        }

        forbid banned_path when {
          path matches "secret/**"
        }
        """

    static func input(kind: String = "snp", tcb: Int = 9, roles: String = #"[{"role":"reader","path":"prod/*"}]"#,
        path: String = "prod/db", version: String = "2.1.0", issued: String = "2026-01-01T00:00:00Z", extra: String = "") -> String
    {
        #"{"kind":"\#(kind)","tcb":\#(tcb),"roles":\#(roles),"path":"\#(path)","version":"\#(version)","issued":"\#(issued)"\#(extra)}"#
    }

    let set: PolicySet
    let now = Timestamp.nanoseconds(fromRFC3339: "2026-01-01T00:30:00Z")!

    init() throws {
        set = try mustCompile(Self.policy, data: ["floor": #"{"snp": 8, "special": 0}"#])
    }

    @Test func permitWithObligation() {
        let decision = set.decide(Self.input(), now: now)
        #expect(decision.effect == .permit)
        #expect(decision.deciding.map(\.name) == ["good"])
        #expect(decision.obligations.first { $0.name == "ttl" }?.json == #""10m""#)
    }

    @Test func strictestTTLWins() {
        let decision = set.decide(Self.input(kind: "special"), now: now)
        #expect(decision.deciding.map(\.name).sorted() == ["also_good", "good"])
        #expect(decision.obligations.first { $0.name == "ttl" }?.json == #""1m""#)
    }

    @Test func forbidWins() {
        let decision = set.decide(Self.input(roles: #"[{"role":"reader","path":"secret/**"}]"#, path: "secret/a/b"), now: now)
        #expect(decision.effect == .deny)
        #expect(decision.deciding.map(\.name) == ["banned_path"])
    }

    @Test func runtimeErrorDeniesEvenWhenAnotherRulePermits() {
        // `data.floor["tdx"]` does not exist: rule `good` errors, and the error denies although nothing else fails.
        let decision = set.decide(Self.input(kind: "tdx"), now: now)
        #expect(decision.effect == .deny)
        #expect(decision.errors.first?.rule == "good")
        #expect(!set.fast(Self.input(kind: "tdx")))
    }

    @Test func globStarStaysInSegment() {
        #expect(set.decide(Self.input(path: "prod/db/replica"), now: now).effect == .deny)
        #expect(Glob("a/**/z").matches("a/b/c/z"))
        #expect(!Glob("a/*/z").matches("a/b/c/z"))
        #expect(Glob("key-??").matches("key-01"))
    }

    @Test func quantifierAllAndVersionAndTime() {
        #expect(set.decide(Self.input(kind: "special", tcb: 0, roles: "[]", version: "2.0.9"), now: now).effect == .deny)
        #expect(set.decide(Self.input(kind: "special", tcb: 0, version: "2.10"), now: now).deciding.contains { $0.name == "also_good" })
        let late = Timestamp.nanoseconds(fromRFC3339: "2026-01-01T02:00:00Z")!
        #expect(!set.decide(Self.input(kind: "special", tcb: 0), now: late).deciding.contains { $0.name == "also_good" })
    }

    @Test func denyExplainsFirstFailingCondition() throws {
        let decision = set.decide(Self.input(tcb: 3), now: now)
        let failure = try #require(decision.failures.first { $0.rule == "good" })
        #expect(failure.condition == "tcb >= minimum")
        #expect(failure.actual == "3")
        #expect(failure.expected == ">= 8")
        #expect(failure.position.hasSuffix(":15:3"))
    }

    @Test("fast path agrees with the explained path", arguments: [
        input(), input(kind: "special"), input(kind: "tdx"), input(tcb: 1), input(path: "secret/x"),
        input(roles: "[]"), input(version: "1"), "{}", "[]", "nonsense", input(extra: #","tcb":1"#),
    ])
    func fastAgrees(_ json: String) {
        #expect(set.fast(json) == set.decide(json).isPermitted)
    }

    @Test("malformed input denies with an error", arguments: [
        "", "{", "[]", #"{"kind":1}"#, input(extra: #","kind":"dup""#), input(version: "x.y"), input(issued: "yesterday"),
        input(tcb: 0).replacingOccurrences(of: "\"tcb\":0", with: "\"tcb\":1.5"),
        String(repeating: "[", count: 100_000),
    ])
    func malformed(_ json: String) {
        let decision = set.decide(json)
        #expect(decision.effect == .deny)
        #expect(!decision.errors.isEmpty)
    }

    @Test func optionalMapGuardedByHas() throws {
        let set = try mustCompile("""
            input { limits?: map<int> }
            permit ok when {
              has limits
              has limits["x"]
              limits["x"] > 1
            }
            """)
        #expect(set.decide(#"{"limits":{"x":2}}"#).isPermitted)
        #expect(!set.decide(#"{"limits":{"y":2}}"#).isPermitted)
        #expect(set.decide(#"{"limits":{"y":2}}"#).errors.isEmpty)
        #expect(!set.decide("{}").isPermitted)
    }

    @Test func entitiesAndScopedRoles() throws {
        let set = try mustCompile("""
            input { user: string, path: string }
            entity User { dept: string }
            permit read when {
              has User(user)
              User(user).dept == "eng"
              has_role(User(user), "reader", path)
            }
            """, entities: #"[{"type":"User","id":"ann","attributes":{"dept":"eng"},"roles":[{"role":"reader","scope":"docs/*"}]}]"#)
        #expect(set.decide(#"{"user":"ann","path":"docs/a"}"#).isPermitted)
        #expect(!set.decide(#"{"user":"ann","path":"code/a"}"#).isPermitted)
        #expect(!set.decide(#"{"user":"bob","path":"docs/a"}"#).isPermitted)
        #expect(set.decide(#"{"user":"bob","path":"docs/a"}"#).errors.isEmpty)
    }

    @Test func badEntityFileIsADiagnostic() {
        let result = compile("input { a: int }\nentity User { dept: string }\npermit x when { a == 1 }",
            entities: #"[{"type":"Usr","id":"ann","attributes":{}}]"#)
        guard case .failure(let error) = result else {
            Issue.record("expected a diagnostic")
            return
        }
        #expect(error.diagnostics.first?.message.contains("did you mean `User`") == true)
    }

    @Test func dataFileErrorsPointIntoTheFile() {
        let result = compile("input { a: hex }\ndata allowed: set<hex>\npermit x when { a in data.allowed }",
            data: ["allowed": "[\n  \"00ff\",\n  \"xyz\"\n]"])
        guard case .failure(let error) = result else {
            Issue.record("expected a diagnostic")
            return
        }
        #expect(error.diagnostics.first?.headline.contains("allowed.json:3:3") == true)
    }

    @Test func deepNestingIsRefusedNotOverflowed() {
        let deep = "input { a: bool }\npermit x when {\n  " + String(repeating: "(", count: 50_000) + "a" + "\n}"
        guard case .failure(let error) = compile(deep) else {
            Issue.record("expected a diagnostic")
            return
        }
        #expect(error.diagnostics.contains { $0.id.code == "E0005" })
        let notNot = "input { a: bool }\npermit x when {\n  " + String(repeating: "not ", count: 50_000) + "a\n}"
        guard case .failure(let error2) = compile(notNot) else {
            Issue.record("expected a diagnostic")
            return
        }
        #expect(error2.diagnostics.contains { $0.id.code == "E0005" })
    }

    @Test func hugeFileIsRefused() {
        let huge = "input { a: bool }\n" + String(repeating: "// padding\n", count: 120_000)
        guard case .failure(let error) = compile(huge) else {
            Issue.record("expected a diagnostic")
            return
        }
        #expect(error.diagnostics.contains { $0.id.code == "E0004" })
    }
}
