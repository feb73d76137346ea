import ArgumentParser
import Dispatch
import Foundation
import KBSClaims
import KBSZK

/// `kbs zk …`: zero-knowledge proofs as the broker will check them.
struct ZKCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zk",
        abstract: "Verify zero-knowledge proofs: Groth16 over BN254, in snarkjs's JSON formats.",
        subcommands: [Verify.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a snarkjs Groth16 proof against its verification key and public signals.",
            discussion: """
                The files are what `snarkjs groth16 setup/prove` write: verification_key.json, proof.json, public.json.
                Prints {"verified": true, "public_signals": N} and exits 0, or `error: <reason>: <message>` and exits 1
                (reasons: malformed, unsupported, invalid_point, signal_count, proof). With --iterations N it verifies
                N more times and prints the timings (µs) of reading the key, reading the proof and verifying.
                """)

        @Option(help: "snarkjs's verification_key.json.") var key: String
        @Option(help: "snarkjs's proof.json.") var proof: String
        @Option(name: .customLong("public"), help: "snarkjs's public.json.") var publicSignals: String
        @Option(help: "Time this many further verifications.") var iterations: Int = 0

        func run() async throws {
            guard (0...100_000).contains(iterations) else { throw Refusal(code: "usage", message: "--iterations is 0 to 100000") }
            let keyBytes = try Self.read(key)
            let proofBytes = try Self.read(proof)
            let signalBytes = try Self.read(publicSignals)
            do {
                let verificationKey = try Groth16VerificationKey(snarkjs: keyBytes)
                let parsed = try Groth16Proof(snarkjs: proofBytes)
                let signals = try Groth16.publicSignals(snarkjs: signalBytes)
                try Groth16.verify(parsed, signals: signals, key: verificationKey)
                Console.out("{\"verified\":true,\"public_signals\":\(signals.count)}")
                guard iterations > 0 else { return }
                var keyTimes: [UInt64] = []
                var proofTimes: [UInt64] = []
                var verifyTimes: [UInt64] = []
                for _ in 0..<iterations {
                    let started = DispatchTime.now().uptimeNanoseconds
                    let again = try Groth16VerificationKey(snarkjs: keyBytes)
                    let keyRead = DispatchTime.now().uptimeNanoseconds
                    let proofAgain = try Groth16Proof(snarkjs: proofBytes)
                    let proofRead = DispatchTime.now().uptimeNanoseconds
                    try Groth16.verify(proofAgain, signals: try Groth16.publicSignals(snarkjs: signalBytes), key: again)
                    let verified = DispatchTime.now().uptimeNanoseconds
                    keyTimes.append(keyRead - started)
                    proofTimes.append(proofRead - keyRead)
                    verifyTimes.append(verified - proofRead)
                }
                for (name, times) in [("read_key", keyTimes), ("read_proof", proofTimes), ("verify", verifyTimes)] {
                    let sorted = times.sorted()
                    let p50 = Double(sorted[sorted.count / 2]) / 1000
                    let p99 = Double(sorted[min(sorted.count - 1, sorted.count * 99 / 100)]) / 1000
                    Console.out(
                        "{\"case\":\"\(name)\",\"n\":\(times.count),\"public_signals\":\(signals.count),"
                            + "\"p50_us\":\(String(format: "%.1f", p50)),\"p99_us\":\(String(format: "%.1f", p99))}")
                }
            } catch {
                throw Refusal(code: error.reason.rawValue, message: error.message)
            }
        }

        static func read(_ path: String) throws -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: path) else { throw Refusal(code: "io", message: "cannot read \(path)") }
            return Array(data)
        }
    }
}
