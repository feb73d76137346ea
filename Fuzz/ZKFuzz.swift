// libFuzzer entry for KBSZK's snarkjs readers and Groth16 verification (Sources/KBSZK).
//
// Not a SwiftPM target: Tools/fuzz compiles this file together with KBSZK's sources into one module (KBSClaims is
// its own). The input is tried as a verification key, a proof and public signals; a proof that reads is verified
// against the safeposeidon fixture's key and signals. Invariants: nothing traps, and a mutated proof never verifies
// unless it is the fixture's own proof.
import Foundation
import KBSClaims

private let fixture = "Fixtures/zk/safeposeidon/"
private let key = try? Groth16VerificationKey(snarkjs: Array(FileManager.default.contents(atPath: fixture + "verification_key.json") ?? Data()))
private let signals = (try? Groth16.publicSignals(snarkjs: Array(FileManager.default.contents(atPath: fixture + "public.json") ?? Data()))) ?? []
private let original = try? Groth16Proof(snarkjs: Array(FileManager.default.contents(atPath: fixture + "proof.json") ?? Data()))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzZK(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let key, let original else { preconditionFailure("run from the repository root: \(fixture) is missing") }
    _ = try? Groth16VerificationKey(snarkjs: bytes)
    _ = try? Groth16.publicSignals(snarkjs: bytes)
    if let proof = try? Groth16Proof(snarkjs: bytes) {
        let verified = (try? Groth16.verify(proof, signals: signals, key: key)) != nil
        let same = proof.a == original.a && proof.b == original.b && proof.c == original.c
        precondition(!verified || same, "a proof other than the fixture's verified")
    }
    return 0
}
