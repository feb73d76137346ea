// libFuzzer entry for the key broker's untrusted inputs (KBSBroker): one binary, one target per run.
//
// A SwiftPM executable target that exists only when KBS_FUZZ is set (see the end of Package.swift); Tools/fuzz runs it
// as `.build-fuzz-identity/fuzz-rcar-attest` or `fuzz-rcar-token`.
//  - rcar-attest: each input is a `POST /kbs/v0/attest` body, sent on a fresh session of a broker in simulator mode
//    whose nonce the harness fixes, so a body bound to that nonce (the seed: simulator SNP evidence signed by the
//    harness's simulator CA) verifies, and mutations reach the JSON, JWK, binding, evidence and tier code.
//  - rcar-token: each input is a bearer token for `GET /kbs/v0/resource`; the seed is a token the signer issued.
//  - vault: each input is a Vault request body (see VaultFuzz.swift).
// Invariants: nothing traps; a refusal has a code and a message, and is a 4xx (the input cannot make the server fail);
// an accepted attestation yields a token the same broker verifies.
import Dispatch
import Foundation
import KBSBroker
import KBSClaims
import KBSEvidence
import KBSKeys
import KBSPolicy
import KBSServer
import KBSStore
import Synchronization

let fixedNonce = "fuzz-nonce-0123456789abcdefABCDEF0123456789="

/// The broker's clock: ten minutes later for every input, so the fixed nonce, spent in SQLite by each input that gets
/// that far, has expired (sessions live five) before the next input.
private let step = Mutex<Double>(0)
private let start = Date()
private func advance() { step.withLock { $0 += 1 } }
private func fuzzNow() -> Date { start + step.withLock { $0 } * 600 }

/// The harness's broker, data directory and signer, made before the first input.
let harness: (broker: Broker, directory: String) = {
    let directory =
        ProcessInfo.processInfo.environment["KBS_FUZZ_DATA"]
        ?? FileManager.default.temporaryDirectory.appendingPathComponent("kbs-fuzz-broker").path
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    do {
        // A store of this process's own: an earlier run's clock ran ahead, and its spent nonces would still count.
        let storeDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-fuzz-store-\(getpid())").path
        try FileManager.default.createDirectory(atPath: storeDirectory, withIntermediateDirectories: true)
        let store = try Store(directory: storeDirectory)
        // A key hierarchy of this process's own: attestation tokens are signed by a key it seals (nothing is released).
        let (master, _) = try LocalMasterKeyProvider.create(at: storeDirectory + "/master.sealed", threshold: 2, shareCount: 2)
        let ca = try SimulatorCA.openOrCreate(directory: directory + "/simulator-ca")
        let registry = BrokerSchemas.registry
        guard case .success(let tiers) = PolicySet.load(directory: "Policies/default/tiers", registry: registry),
            case .success(let release) = PolicySet.load(directory: "Policies/default", registry: registry)
        else { setupFailure("run from the repository root: Policies/default and its tiers/ must compile") }
        let broker = Broker(
            configuration: BrokerConfiguration(teeMode: .simulator, simulatorCA: ca), ports: .sqlite(store, clock: { fuzzNow() }),
            keys: KeySource(KeyHierarchy(master: master, store: InMemoryKeyRecordStore())), releasePolicy: { release },
            tierRules: TierRules(policy: tiers))
        return (broker, directory)
    } catch {
        setupFailure("cannot set up the broker in \(directory): \(error)")
    }
}()

private let target: String = {
    let program = (CommandLine.arguments.first ?? "").split(separator: "/").last.map(String.init) ?? ""
    let name = ProcessInfo.processInfo.environment["KBS_FUZZ_TARGET"] ?? (program.hasPrefix("fuzz-") ? String(program.dropFirst(5)) : "")
    guard ["rcar-attest", "rcar-token", "vault"].contains(name) else { setupFailure("set KBS_FUZZ_TARGET to rcar-attest, rcar-token or vault") }
    return name
}()

/// A valid attestation body bound to the fixed nonce, and a token the broker issued for it.
private func seeds() -> (body: [UInt8], token: String) {
    let key = P256Seed.publicJWK
    guard let keyNode = try? JSONNode.parse(Array((try? JSONSerialization.data(withJSONObject: key)) ?? Data())),
        let digest = try? Broker.runtimeDigest(teePublicKey: keyNode, nonce: fixedNonce, additionalEvidence: ""),
        let simulated = try? TEESimulator.simulate(
            kind: .snp, reportData: digest, measurement: nil, now: fuzzNow(),
            ca: try? SimulatorCA.openOrCreate(directory: harness.directory + "/simulator-ca")),
        let evidence = try? JSONSerialization.jsonObject(with: Data(simulated.rcarEvidence)),
        let body = try? JSONSerialization.data(
            withJSONObject: [
                "runtime-data": ["nonce": fixedNonce, "tee-pubkey": key],
                "tee-evidence": ["primary_evidence": evidence, "additional_evidence": ""],
            ] as [String: Any], options: [.sortedKeys])
    else { setupFailure("cannot make the seed attestation") }
    guard case .success(let token) = attest(Array(body)) else { setupFailure("the seed attestation does not verify") }
    return (Array(body), token)
}

/// A fixed P-256 public key for the seed (only its public half matters: nothing is released).
enum P256Seed {
    static let publicJWK: [String: String] = [
        "kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
    ]
}

private final class Box<T>: @unchecked Sendable {
    var value: T?
    init() {}
}

/// The broker's verdict on a bearer token, waited for on this (the fuzzer's) thread.
private func verify(_ token: String) -> Result<Appraisal, BrokerError> {
    let box = Box<Result<Appraisal, BrokerError>>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do throws(BrokerError) { box.value = .success(try await harness.broker.signer.verify(token, now: fuzzNow())) } catch {
            box.value = .failure(error)
        }
        done.signal()
    }
    done.wait()
    guard let value = box.value else { fuzzFailure("verify finished without an outcome") }
    return value
}

private func attest(_ body: [UInt8]) -> Result<String, BrokerError> {
    advance()
    // The server's decoder first, as a request meets it: its refusals are the transport's, reported as invalid requests.
    let request: AttestRequest
    do throws(ServerError) { request = try RCARRequestDecoding.attest(body) } catch {
        return .failure(BrokerError(.invalidRequest, error.code, error.message))
    }
    let box = Box<Result<String, BrokerError>>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do throws(BrokerError) {
            let session = try await harness.broker.openSession(tee: "snp", now: fuzzNow(), fixedNonce: fixedNonce)
            box.value = .success(try await harness.broker.attest(sessionID: session.id, request: request))
        } catch {
            box.value = .failure(error)
        }
        done.signal()
    }
    done.wait()
    guard let value = box.value else { fuzzFailure("attest finished without an outcome") }
    return value
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    _ = harness
    _ = target
    // Tools/fuzz asks for the seed by naming a folder: the valid input for this run's target.
    if target == "vault" { _ = VaultHarness.state }
    if let folder = ProcessInfo.processInfo.environment["KBS_FUZZ_SEED_DIR"] {
        let seed: Data
        if target == "vault" {
            seed = Data(VaultHarness.state.seed)
        } else {
            let (body, token) = seeds()
            seed = target == "rcar-attest" ? Data(body) : Data(token.utf8)
        }
        try? seed.write(to: URL(fileURLWithPath: folder + "/seed-\(target)"))
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBroker(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    switch target {
    case "rcar-attest":
        switch attest(input) {
        case .success(let token):
            guard case .success = verify(token) else { fuzzFailure("an issued token does not verify") }
        case .failure(let error):
            check(error)
        }
    case "vault":
        VaultHarness.run(input)
    default:
        if case .failure(let error) = verify(String(decoding: input, as: UTF8.self)) { check(error) }
    }
    return 0
}

private func check(_ error: BrokerError) {
    if error.code.isEmpty || error.message.isEmpty { fuzzFailure("a refusal without a code or message: \(error)") }
    // 503s are the store or audit failing, not the input; anything else 5xx is the input breaking the server.
    if error.kind == .failed { fuzzFailure("an input made the broker fail: \(error)") }
}

func fuzzFailure(_ message: String) -> Never { fatalError("fuzz invariant: \(message)") }

func setupFailure(_ message: String) -> Never {
    FileHandle.standardError.write(Data("fuzz-broker: \(message)\n".utf8))
    exit(2)
}
