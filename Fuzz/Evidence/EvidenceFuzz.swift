// libFuzzer entry for the evidence verifiers (KBSEvidence): one binary, one evidence kind per run.
//
// A SwiftPM executable target that exists only when KBS_FUZZ is set (see the end of Package.swift); Tools/fuzz builds
// it like the identity harness and runs it through links `.build-fuzz-identity/fuzz-evidence-<kind>` (or with
// KBS_FUZZ_TARGET=evidence-<kind>). Each input is verified as that kind with the endorsements and trust anchors of the
// kind's real fixtures (../shared/fixtures/evidence, or KBS_FUZZ_EVIDENCE) at a time inside their validity, so the
// fixtures' valid evidence passes and mutations of it reach the parsers, the signature and chain checks and the claim
// extraction. Invariants on every input:
//  - nothing traps (ASan and Swift runtime traps are crashes);
//  - accepted evidence is of this kind and its claims render as JSON that parses back with the same kind;
//  - a refusal has a message and never blames the configuration (the input cannot change the trust anchors).
import Dispatch
import Foundation
import KBSClaims
import KBSEvidence

/// One kind's fuzzing set-up: the files of its context (relative to the evidence fixtures) and the time.
struct EvidenceFuzzTarget: Sendable {
    var kind: EvidenceKind
    var endorsements: [String]
    var anchors: [String]
    var time: String
}

/// The targets, by the name Tools/fuzz uses (`evidence-<kind>`).
let evidenceFuzzTargets: [String: EvidenceFuzzTarget] = [
    "evidence-snp": .init(
        kind: .snp, endorsements: ["snp/trustee-test-vcek.der"],
        anchors: ["snp/trustee-milan_ask_ark_asvk.pem"], time: "2024-06-01T00:00:00Z"),
    "evidence-tdx": .init(
        kind: .tdx,
        endorsements: [
            "tdx/go-tdx-guest-sample_tcbInfo_response", "tdx/go-tdx-guest-sample_qeIdentity_response",
            "tdx/extracted-go-tdx-guest-tcb-signing-issuer-chain.pem",
        ], anchors: ["tdx/go-tdx-guest-trusted_root.pem"], time: "2023-07-01T00:00:00Z"),
    "evidence-sgx": .init(kind: .sgx, endorsements: [], anchors: ["tdx/go-tdx-guest-trusted_root.pem"], time: "2024-06-01T00:00:00Z"),
    "evidence-nvidia": .init(
        kind: .nvidia, endorsements: ["nvidia-gpu/trustee-hopper_cert_chain_case1.txt"],
        anchors: ["nvidia-gpu/trustee-nvidia_device_root.pem"], time: "2025-01-01T00:00:00Z"),
    "evidence-cca": .init(kind: .cca, endorsements: [], anchors: ["cca/trustee-tastore.json"], time: "2025-01-01T00:00:00Z"),
    "evidence-tpm": .init(kind: .tpm, endorsements: [], anchors: [], time: "2025-01-01T00:00:00Z"),
    "evidence-az-snp-vtpm": .init(
        kind: .azSNPvTPM, endorsements: [],
        anchors: ["snp/trustee-milan_ask_ark_asvk.pem", "snp/trustee-genoa_ask_ark_asvk.pem"], time: "2024-06-01T00:00:00Z"),
]

/// The selected target's verifier and context, built before the first input.
private let selected: (EvidenceKind, VerificationContext) = {
    let programName = (CommandLine.arguments.first ?? "").split(separator: "/").last.map(String.init) ?? ""
    let fromProgramName = programName.hasPrefix("fuzz-") ? String(programName.dropFirst("fuzz-".count)) : nil
    guard let name = ProcessInfo.processInfo.environment["KBS_FUZZ_TARGET"] ?? fromProgramName,
        let target = evidenceFuzzTargets[name]
    else {
        fuzzSetupFailure("set KBS_FUZZ_TARGET to one of \(evidenceFuzzTargets.keys.sorted().joined(separator: ", "))")
    }
    let root = ProcessInfo.processInfo.environment["KBS_FUZZ_EVIDENCE"] ?? "../shared/fixtures/evidence"
    func file(_ relative: String) -> EvidenceFile {
        guard let data = FileManager.default.contents(atPath: root + "/" + relative) else {
            fuzzSetupFailure("cannot read \(root)/\(relative) (set KBS_FUZZ_EVIDENCE to the evidence fixtures)")
        }
        return EvidenceFile(name: relative, bytes: Array(data))
    }
    guard let nanos = Timestamp.nanoseconds(fromRFC3339: target.time) else { fuzzSetupFailure("bad time \(target.time)") }
    var context = VerificationContext(
        time: Date(timeIntervalSince1970: Double(nanos) / 1e9), endorsements: target.endorsements.map(file),
        trustAnchors: target.anchors.map(file))
    context.ignoresCollateralSignerExpiry = true
    return (target.kind, context)
}()

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    _ = selected
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEvidence(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let (kind, context) = selected
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    switch verifySynchronously(input, kind: kind, context: context) {
    case .success(let verified):
        if verified.kind != kind { fuzzFailure("\(kind.rawValue): accepted as \(verified.kind.rawValue)") }
        guard let node = try? JSONNode.parse(Array(verified.json.utf8)), node["kind"]?.stringValue == kind.rawValue else {
            fuzzFailure("\(kind.rawValue): claims JSON does not parse back: \(verified.json)")
        }
    case .failure(let error):
        if error.reason == .configuration { fuzzFailure("\(kind.rawValue): refused as a configuration error: \(error)") }
        if error.message.isEmpty { fuzzFailure("\(kind.rawValue): refused (\(error.reason.rawValue)) without a message") }
    }
    return 0
}

private final class OutcomeBox: @unchecked Sendable {
    var outcome: Result<VerifiedEvidence, EvidenceError>?
}

/// Runs the async verification on the cooperative pool while libFuzzer's thread waits.
func verifySynchronously(_ input: [UInt8], kind: EvidenceKind, context: VerificationContext) -> Result<VerifiedEvidence, EvidenceError> {
    let box = OutcomeBox()
    let done = DispatchSemaphore(value: 0)
    Task {
        do throws(EvidenceError) {
            box.outcome = .success(try await EvidenceVerifiers.verify(input, kind: kind, context: context))
        } catch {
            box.outcome = .failure(error)
        }
        done.signal()
    }
    done.wait()
    guard let outcome = box.outcome else { fuzzFailure("verification finished without an outcome") }
    return outcome
}

func fuzzFailure(_ message: String) -> Never { fatalError("fuzz invariant: \(message)") }

func fuzzSetupFailure(_ message: String) -> Never {
    FileHandle.standardError.write(Data("fuzz-evidence: \(message)\n".utf8))
    exit(2)
}
