import KBSPolicy
import KBSPolicyTesting
import Testing

@testable import KBSServer

/// A bounded random mutation run over the AuthZEN request reader and the policy behind it (libFuzzer covers
/// the JSON layer underneath in `Tools/fuzz json`): no input crashes, and only a well-formed request is decided.
struct MutatedRequestTests {
    /// SplitMix64: a fixed seed makes every run the same.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }
    }

    static let seeds = [
        Todo.request(subject: Todo.morty, action: "can_update_todo", owner: "morty@the-citadel.com"),
        Todo.request(subject: Todo.rick, action: "can_delete_todo"),
        #"{"subject":{"type":"user","id":"x","properties":{"a":[1,{"b":null}]}},"action":{"name":"can_read_user"},"resource":{"type":"user","id":"y"},"context":{"time":"2026-01-01T00:00:00Z"}}"#,
        #"{"subject":{"type":"user","id":"\#(Todo.beth)"},"evaluations":[{"action":{"name":"can_read_todos"},"resource":{"type":"todo","id":"1"}},{}]}"#,
    ]

    static func mutate(_ bytes: [UInt8], _ random: inout Random) -> [UInt8] {
        var bytes = bytes
        let alphabet = Array(#"{}[]",:0123456789.eE+-tfnul\ "#.utf8) + [0, 0x80, 0xC3, 0xFF, 0x0A]
        for _ in 0...random.below(4) {
            let position = random.below(bytes.count + 1)
            switch random.below(6) {
            case 0 where !bytes.isEmpty: bytes[min(position, bytes.count - 1)] ^= UInt8(1 << random.below(8))
            case 1 where !bytes.isEmpty: bytes.removeSubrange(position..<min(bytes.count, position + 1 + random.below(8)))
            case 2: bytes.insert(alphabet[random.below(alphabet.count)], at: position)
            case 3: bytes = Array(bytes.prefix(position))
            case 4 where !bytes.isEmpty:
                let start = random.below(bytes.count)
                bytes.insert(contentsOf: bytes[start..<min(bytes.count, start + 1 + random.below(16))], at: position)
            default: bytes.insert(contentsOf: Array(#"{"a":"#.utf8), at: position)
            }
        }
        return bytes
    }

    @Test func mutatedRequestsAreRefusedOrDecidedNeverCrash() throws {
        let policy = try PolicySet.load(directory: RepositoryPaths.path("Policies/authzen-todo")).get()
        var random = Random(state: 0x6b62_7321)
        var decided = 0
        var refused = 0
        for round in 0..<20_000 {
            let seed = Array(Self.seeds[round % Self.seeds.count].utf8)
            let bytes = Self.mutate(seed, &random)
            // The tree reader (batches) and the one-pass reader (single evaluations) must agree.
            let single: Result<RequestTokens, ServerError>
            do throws(ServerError) {
                single = .success(try SingleAccessRequest.check(bytes))
            } catch {
                single = .failure(error)
            }
            do {
                let root = try AccessRequest.parseObject(bytes)
                let request = try AccessRequest(root)
                let decision = policy.decide(
                    json: request.policyInput(source: bytes), options: .init(entities: policy.bundleEntities, explain: false))
                let fast = request.policyInput(source: bytes).withUnsafeBufferPointer {
                    policy.isPermitted(json: $0, options: .init(entities: policy.bundleEntities))
                }
                #expect(decision.isPermitted == fast, "\(String(decoding: bytes, as: UTF8.self))")
                guard case .success(let tokens) = single else {
                    Issue.record("the one-pass reader refused what the tree accepted: \(String(decoding: bytes, as: UTF8.self))")
                    continue
                }
                #expect(tokens.subjectID == request.tokens.subjectID && tokens.resourceType == request.tokens.resourceType)
                decided += 1
            } catch {
                #expect(["invalid_json", "invalid_request"].contains(error.code))
                #expect(!error.message.isEmpty)
                // The tree also refuses duplicate members off the request's paths, which the policy decoder handles.
                if case .success = single {
                    #expect(error.message.contains("duplicate member"), "\(error.message): \(String(decoding: bytes, as: UTF8.self))")
                }
                refused += 1
            }
        }
        #expect(decided > 100)
        #expect(refused > 100)
    }
}
