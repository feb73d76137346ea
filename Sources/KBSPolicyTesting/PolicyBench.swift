import Foundation
import KBSClaims
package import KBSPolicy

/// Times decisions over a file of JSON inputs, one per line: from an input's bytes to its decision,
/// single-threaded, each decision timed on its own.
package enum PolicyBench {
    /// The numbers of one benchmark run.
    package struct Result: Sendable {
        package var decisions: Int
        package var decisionsPerSecond: Double
        package var p50Microseconds: Double
        package var p99Microseconds: Double
        package var p999Microseconds: Double
        package var maxMicroseconds: Double
        package var permitted: Int
        package var mismatches: Int
        package var passes: Int
        /// Inputs decoded per second with no evaluation (the median pass), and the median time of one decode.
        package var decodesPerSecond: Double
        package var decodeP50Microseconds: Double

        /// The summary object `kbs policy bench` prints.
        package var json: String {
            func number(_ value: Double) -> String { String(format: "%.2f", value) }
            return "{\"decisions\":\(decisions),\"decisions_per_second\":\(Int(decisionsPerSecond.rounded())),"
                + "\"p50_us\":\(number(p50Microseconds)),\"p99_us\":\(number(p99Microseconds)),"
                + "\"p999_us\":\(number(p999Microseconds)),\"max_us\":\(number(maxMicroseconds)),"
                + "\"permitted\":\(permitted),\"mismatches\":\(mismatches),\"passes\":\(passes),"
                + "\"decode_only_per_second\":\(Int(decodesPerSecond.rounded())),\"decode_only_p50_us\":\(number(decodeP50Microseconds))}"
        }
    }

    /// Why a benchmark could not run.
    package struct Failure: Error, Sendable, CustomStringConvertible {
        package var description: String
    }

    /// Reads the inputs (JSON lines) and optional expected decisions (a JSON array of booleans).
    package static func loadInputs(path: String) throws(Failure) -> [[UInt8]] {
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure(description: "cannot read \(path)") }
        let lines = [UInt8](data).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).map(Array.init)
        guard !lines.isEmpty else { throw Failure(description: "\(path) has no inputs") }
        return lines
    }

    package static func loadExpected(path: String, count: Int) throws(Failure) -> [Bool] {
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure(description: "cannot read \(path)") }
        guard let root = try? JSONNode.parse([UInt8](data)), case .array(let items) = root.value else {
            throw Failure(description: "\(path) must be a JSON array of booleans")
        }
        let expected = items.compactMap { item -> Bool? in
            if case .bool(let flag) = item.value { return flag }
            return nil
        }
        guard expected.count == items.count, expected.count == count else {
            throw Failure(description: "\(path) must hold \(count) booleans, one per input; it holds \(items.count) values")
        }
        return expected
    }

    /// Runs `warmup` decisions, then `passes` timed passes over all inputs; reports the median pass by throughput.
    package static func run(policySet: PolicySet, inputs: [[UInt8]], expected: [Bool]?, passes: Int = 3, warmup: Int = 2000) -> Result {
        var mismatches = 0
        var permitted = 0
        for (index, input) in inputs.enumerated() {
            let decision = input.withUnsafeBufferPointer { policySet.isPermitted(json: $0) }
            if decision { permitted += 1 }
            if let expected, expected[index] != decision { mismatches += 1 }
        }
        for index in 0..<warmup {
            _ = inputs[index % inputs.count].withUnsafeBufferPointer { policySet.isPermitted(json: $0) }
        }
        var runs = timedPasses(inputs, passes: passes) { policySet.isPermitted(json: $0) }
        // The same protocol with decoding only: what the JSON scanner costs of a decision.
        var decodeRuns = timedPasses(inputs, passes: passes) { policySet.decodesInput(json: $0) }
        runs.sort { $0.throughput < $1.throughput }
        decodeRuns.sort { $0.throughput < $1.throughput }
        let median = runs[runs.count / 2]
        let sorted = median.samples.sorted()
        func percentile(_ p: Double) -> Double {
            Double(sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.down)))]) / 1000
        }
        let decodeMedian = decodeRuns[decodeRuns.count / 2]
        let decodeSorted = decodeMedian.samples.sorted()
        return Result(
            decisions: inputs.count, decisionsPerSecond: median.throughput, p50Microseconds: percentile(0.50),
            p99Microseconds: percentile(0.99), p999Microseconds: percentile(0.999), maxMicroseconds: Double(sorted.last ?? 0) / 1000,
            permitted: permitted, mismatches: mismatches, passes: runs.count, decodesPerSecond: decodeMedian.throughput,
            decodeP50Microseconds: Double(decodeSorted[decodeSorted.count / 2]) / 1000)
    }

    /// `passes` passes over `inputs`, each input timed on its own: each pass's throughput and samples.
    private static func timedPasses(
        _ inputs: [[UInt8]], passes: Int, _ decide: (UnsafeBufferPointer<UInt8>) -> Bool
    ) -> [(throughput: Double, samples: [UInt64])] {
        var runs: [(throughput: Double, samples: [UInt64])] = []
        for _ in 0..<max(1, passes) {
            var samples = [UInt64](repeating: 0, count: inputs.count)
            let passStart = monotonicNanoseconds()
            for (index, input) in inputs.enumerated() {
                let start = monotonicNanoseconds()
                let decision = input.withUnsafeBufferPointer { decide($0) }
                samples[index] = monotonicNanoseconds() - start
                blackHole(decision)
            }
            let elapsed = Double(monotonicNanoseconds() - passStart) / 1e9
            runs.append((Double(inputs.count) / elapsed, samples))
        }
        return runs
    }

    @inline(__always)
    static func monotonicNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    @inline(never)
    static func blackHole(_ value: Bool) {}
}
