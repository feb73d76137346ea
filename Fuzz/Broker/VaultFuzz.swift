// The `vault` target: each input is a Vault request body as the Vault API reads it (KBSServer's VaultInput), sent
// through the parsers behind KV and Transit (check-and-set, durations, lists, maps, batch items, base64, RFC 7386 merge
// patches) and then, as Transit items, to a VaultService on the harness's broker: decryption under a plain and a
// derived key (the `vault:vN:` parser, version checks, the cipher), and encryption followed by decryption.
// Invariants: nothing traps; a merge patch of a parsed object is a JSON object; whatever encrypts decrypts to the same
// bytes; a refusal is never the broker failing.
import Dispatch
import Foundation
import KBSBroker
import KBSClaims
import KBSPolicy
import KBSServer

/// Records nothing, keeps every decision: the harness reads outcomes, not the log.
private struct KeepNoLog: DecisionRecorder {
    func record(_ decision: AccessDecision) -> Bool { true }
}

private final class Slot<T>: @unchecked Sendable {
    var value: T?
}

/// Runs `body` on the concurrency pool and waits for it on this (the fuzzer's) thread.
private func waitFor<T>(_ body: @escaping @Sendable () async -> T) -> T {
    let slot = Slot<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        slot.value = await body()
        done.signal()
    }
    done.wait()
    guard let value = slot.value else { fuzzFailure("a vault call finished without an outcome") }
    return value
}

enum VaultHarness {
    /// The target of every merge patch.
    static let target = Array(#"{"user":"app","password":"one","nested":{"a":1,"b":[1,2]},"n":null}"#.utf8)

    /// The service, a tier-4 caller whose token's policies name every path, and a valid seed body.
    static let state: (vault: VaultService, caller: VaultCaller, seed: [UInt8]) = {
        guard case .success(let kms) = PolicySet.load(directory: "Policies/kms", registry: BrokerSchemas.registry) else {
            setupFailure("run from the repository root: Policies/kms must compile")
        }
        let vault = VaultService(
            broker: harness.broker, repository: InMemoryVaultRepository(), policy: { kms }, recorder: KeepNoLog(), defaultTier: .open)
        let made: Result<(VaultCaller, [UInt8]), BrokerError> = waitFor {
            do throws(BrokerError) {
                let issued = try await vault.createToken(subject: "fuzz", policies: ["default"], ttl: 3600, displayName: nil, actor: "fuzz")
                let caller = try await vault.caller(token: issued.token)
                _ = try await vault.createTransitKey(caller, "fuzz", .init())
                var derived = VaultService.TransitOptions()
                derived.derived = true
                _ = try await vault.createTransitKey(caller, "derived", derived)
                let sealed = try await vault.transitEncrypt(caller, "fuzz", [TransitItem(plaintext: Array("seed".utf8))], version: nil)
                guard case .sealed(let ciphertext, _)? = sealed.first else { fuzzFailure("the seed does not encrypt") }
                let seed =
                    #"{"ciphertext":"\#(ciphertext)","batch_input":[{"ciphertext":"\#(ciphertext)","context":"YQ=="},{"plaintext":"c2VlZA=="}],"plaintext":"c2VlZA==","data":{"password":null,"port":5432,"nested":{"b":"x"}},"options":{"cas":1},"ttl":"1h30m","versions":[1,"2"],"policies":"a,b","custom_metadata":{"k":"v"}}"#
                return .success((caller, Array(seed.utf8)))
            } catch {
                return .failure(error)
            }
        }
        switch made {
        case .success(let (caller, seed)): return (vault, caller, seed)
        case .failure(let error): setupFailure("cannot set up the Vault service: \(error)")
        }
    }()

    static func run(_ bytes: [UInt8]) {
        guard let input = try? VaultInput(bytes) else { return }
        _ = try? input.cas()
        _ = try? input.duration("ttl")
        _ = try? input.strings("policies")
        _ = try? input.integers("versions")
        _ = try? input.stringMap("custom_metadata")
        _ = try? input.bool("derived")
        _ = try? input.integer("key_version")
        if let data = try? input.rawObject("data"), let patch = input["data"], let targetNode = try? JSONNode.parse(target) {
            guard case .object? = (try? JSONNode.parse(data))?.value else { fuzzFailure("a data member's bytes are not its object") }
            let merged = MergePatch.apply(patch, bytes: input.bytes, to: targetNode, bytes: target)
            guard case .object? = (try? JSONNode.parse(merged))?.value else { fuzzFailure("a merge patch made no JSON object") }
        }
        let (vault, caller, _) = state
        if let (items, _) = try? input.transitItems("ciphertext") {
            for key in ["fuzz", "derived"] {
                check(waitFor { await outcome { () async throws(BrokerError) in try await vault.transitDecrypt(caller, key, items) } })
            }
        }
        if let (items, _) = try? input.transitItems("plaintext") {
            let sealed = waitFor {
                await outcome { () async throws(BrokerError) in try await vault.transitEncrypt(caller, "fuzz", items, version: nil) }
            }
            guard case .success(let outcomes) = sealed else { return check(sealed) }
            var again: [TransitItem] = []
            var expected: [[UInt8]] = []
            for (item, outcome) in zip(items, outcomes) {
                if case .sealed(let ciphertext, _) = outcome, let plaintext = item.plaintext {
                    again.append(TransitItem(ciphertext: ciphertext, context: item.context))
                    expected.append(plaintext)
                }
            }
            guard !again.isEmpty else { return }
            let sealedItems = again
            let opened = waitFor { await outcome { () async throws(BrokerError) in try await vault.transitDecrypt(caller, "fuzz", sealedItems) } }
            guard case .success(let results) = opened else { fuzzFailure("what encrypted does not decrypt: \(opened)") }
            for (result, plaintext) in zip(results, expected) {
                guard case .opened(let bytes) = result, bytes == plaintext else { fuzzFailure("a round trip changed the plaintext") }
            }
        }
    }

    private static func outcome<T>(_ body: () async throws(BrokerError) -> T) async -> Result<T, BrokerError> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    private static func check<T>(_ result: Result<T, BrokerError>) {
        if case .failure(let error) = result {
            if error.code.isEmpty || error.message.isEmpty { fuzzFailure("a refusal without a code or message: \(error)") }
            if error.kind == .failed { fuzzFailure("an input made the broker fail: \(error)") }
        }
    }
}
