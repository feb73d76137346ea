import Crypto
import Foundation
import GRDB
import KBSClaims
import KBSJOSE

/// The floor under a durable release on this machine: one SQLite commit that waits for the disk (WAL,
/// `synchronous = FULL`, as the store commits an audit record) and one `ECDH-ES+A256KW` JWE built with the product's
/// own code, as a release encrypts its secret. A release can do no less and stay durable, so its latency over this
/// floor is what the broker itself adds. What `kbs bench floor` prints.
package enum ReleaseFloor {
    /// The figures of one run, in microseconds.
    package struct Figures: Sendable {
        package var iterations: Int
        /// The commit and the JWE together, per iteration.
        package var p50: Double
        package var p99: Double
        package var mean: Double
        /// The parts alone.
        package var commitP50: Double
        package var jweP50: Double

        /// As one JSON line, `{"case": "floor", …}`, beside the release bench's cases.
        package var json: String {
            func number(_ value: Double) -> String { String(format: "%.1f", value) }
            return #"{"case":"floor","n":\#(iterations),"p50_us":\#(number(p50)),"p99_us":\#(number(p99)),"mean_us":\#(number(mean)),"#
                + #""commit_p50_us":\#(number(commitP50)),"jwe_p50_us":\#(number(jweP50))}"#
        }
    }

    /// Times `iterations` commits and JWEs on a fresh database in `directory` (then removed), so the disk is the one
    /// the store uses. Throws ``StoreError/Code/invalid`` for a bad count and ``StoreError/Code/database`` when the
    /// database cannot be made or written.
    package static func measure(directory: String, iterations: Int) throws(StoreError) -> Figures {
        guard (1...1_000_000).contains(iterations) else { throw StoreError(.invalid, "iterations must be 1…1000000, not \(iterations)") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StoreError(.invalid, "\(directory) is not a directory")
        }
        let path = directory + "/floor-\(UUID().uuidString.lowercased()).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let recipient = JWE.RecipientKey.p256(P256.KeyAgreement.PrivateKey().publicKey)
        let secret = (0..<32).map { _ in UInt8.random(in: 0...255) }
        do {
            var configuration = Configuration()
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            let pool = try DatabasePool(path: path, configuration: configuration)
            // As the store does: GRDB's WAL set-up leaves the writer at NORMAL, which does not wait for the disk.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try pool.write { db in try db.execute(sql: "CREATE TABLE floor (n INTEGER PRIMARY KEY, at INTEGER NOT NULL, body BLOB NOT NULL)") }
            let clock = ContinuousClock()
            var totals: [Double] = []
            var commits: [Double] = []
            var jwes: [Double] = []
            for index in 0..<iterations {
                let began = clock.now
                try pool.writeWithoutTransaction { db in
                    try db.inTransaction(.immediate) {
                        try db.execute(
                            sql: "INSERT INTO floor (n, at, body) VALUES (?, ?, ?)",
                            arguments: [index, Int64(Date().timeIntervalSince1970), Data(secret)])
                        return .commit
                    }
                }
                let committed = clock.now
                let jwe = try secret.withUnsafeBytes { plaintext throws(JOSEError) in try JWE.encrypt(plaintext, to: recipient) }
                let ended = clock.now
                precondition(!jwe.isEmpty)
                commits.append(microseconds(began.duration(to: committed)))
                jwes.append(microseconds(committed.duration(to: ended)))
                totals.append(microseconds(began.duration(to: ended)))
            }
            return Figures(
                iterations: iterations, p50: percentile(totals, 0.5), p99: percentile(totals, 0.99), mean: totals.reduce(0, +) / Double(iterations),
                commitP50: percentile(commits, 0.5), jweP50: percentile(jwes, 0.5))
        } catch let error as JOSEError {
            throw StoreError(.database, "the JWE cannot be built: \(error.message)")
        } catch {
            throw StoreError(.database, "cannot time commits in \(directory): \(Store.describe(error))")
        }
    }

    private static func percentile(_ samples: [Double], _ fraction: Double) -> Double {
        let sorted = samples.sorted()
        return sorted[min(sorted.count - 1, Int((fraction * Double(sorted.count - 1)).rounded()))]
    }

    private static func microseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1_000_000 + Double(duration.components.attoseconds) / 1e12
    }
}
