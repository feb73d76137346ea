import Foundation
import KBSClaims
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

    static func input(
        kind: String = "snp", tcb: Int = 9, roles: String = #"[{"role":"reader","path":"prod/*"}]"#,
        path: String = "prod/db", version: String = "2.1.0", issued: String = "2026-01-01T00:00:00Z", extra: String = ""
    ) -> String {
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

    @Test(
        "fast path agrees with the explained path",
        arguments: [
            input(), input(kind: "special"), input(kind: "tdx"), input(tcb: 1), input(path: "secret/x"),
            input(roles: "[]"), input(version: "1"), "{}", "[]", "nonsense", input(extra: #","tcb":1"#),
        ])
    func fastAgrees(_ json: String) {
        #expect(set.fast(json) == set.decide(json).isPermitted)
    }

    @Test(
        "malformed input denies with an error",
        arguments: [
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
        let set = try mustCompile(
            """
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
        let set = try mustCompile(
            """
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
        let result = compile(
            "input { a: int }\nentity User { dept: string }\npermit x when { a == 1 }",
            entities: #"[{"type":"Usr","id":"ann","attributes":{}}]"#)
        guard case .failure(let error) = result else {
            Issue.record("expected a diagnostic")
            return
        }
        #expect(error.diagnostics.first?.message.contains("did you mean `User`") == true)
    }

    @Test func dataFileErrorsPointIntoTheFile() {
        let result = compile(
            "input { a: hex }\ndata allowed: set<hex>\npermit x when { a in data.allowed }",
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

    // Regressions: a condition that does not type-check must stop the bundle, never vanish from its rule.
    @Test(
        "ill-typed conditions are compile errors",
        arguments: [
            "not n", "any x in xs: x", "if n then true else false", "n and true", "true or n", "-n", "n == \"1\"",
            "any x in xs: has x",
        ])
    func illTypedConditionsAreErrors(_ condition: String) {
        let result = compile("input { n: int, xs: list<int> }\npermit p when {\n  \(condition)\n}")
        guard case .failure(let error) = result else {
            Issue.record("`\(condition)` compiled; it would have been dropped from the rule")
            return
        }
        #expect(error.diagnostics.hasErrors)
    }

    @Test func letBoundNameIsNotAnOptionalAttribute() {
        guard case .failure = compile("input { n: int }\npermit p when {\n  let x = 1\n  has x\n}") else {
            Issue.record("`has x` on a binding compiled")
            return
        }
    }

    @Test func obligationErrorDenies() throws {
        let set = try mustCompile(
            "input { k: string }\ndata ttls: map<duration>\npermit p when {\n  k != \"\"\n} with {\n  ttl = data.ttls[k]\n}",
            data: ["ttls": #"{"a": "5m"}"#])
        #expect(set.decide(#"{"k":"a"}"#).isPermitted)
        #expect(!set.decide(#"{"k":"b"}"#).isPermitted)
        #expect(!set.fast(#"{"k":"b"}"#))
    }

    @Test func obligationsUseTheirOwnRulesBindings() throws {
        let set = try mustCompile(
            """
            input { a: duration, b: duration }
            permit first when {
              let t = a
              t > 0s
            } with {
              ttl = t
            }
            permit second when {
              let u = b
              u > 0s
            }
            """)
        let decision = set.decide(#"{"a":"5m","b":"1m"}"#)
        #expect(decision.obligations.first { $0.name == "ttl" }?.json == #""5m""#)
    }

    @Test func quantifierVariableDoesNotInheritOuterGuards() {
        let policy = """
            type Item = { opt?: int }
            input { x: Item, xs: list<Item> }
            permit p when {
              has x.opt
              any x in xs: x.opt > 0
            }
            """
        guard case .failure(let error) = compile(policy) else {
            Issue.record("unguarded loop variable compiled")
            return
        }
        #expect(error.diagnostics.contains { $0.id.code == "E0305" })
    }

    @Test func duplicateOfUnreadAttributeIsRefused() throws {
        let set = try mustCompile("input { a: int, unread: int }\npermit p when { a == 1 }")
        #expect(set.decide(#"{"a":1,"unread":1}"#).isPermitted)
        #expect(!set.decide(#"{"a":1,"unread":1,"unread":2}"#).isPermitted)
    }

    @Test func globWithManyStarsStaysFast() {
        let glob = Glob(String(repeating: "*a", count: 30) + "b")
        let clock = ContinuousClock()
        let elapsed = clock.measure { #expect(!glob.matches(String(repeating: "a", count: 2000))) }
        // A backtracking matcher takes astronomically long here; the table takes milliseconds.
        #expect(elapsed < .seconds(5))
        #expect(Glob("**").matches("a/b/c"))
        #expect(!Glob("*").matches("a/b"))
        #expect(Glob("é?").matches("éü"))
    }
}
