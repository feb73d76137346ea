import Foundation
import KBSBroker
import KBSStorePostgres

/// The checks a configuration-file value and its environment variable share, so both say the same thing.
enum ServerSettings {
    /// A value as checked: usable, or what is wrong with it.
    enum Checked<Value> {
        case valid(Value)
        case invalid(String)
    }

    static let ports = 0...65535
    static let tiers = 0...4

    static func portProblem(_ found: String) -> String { "must be a port number from 0 to 65535, not \(found)" }

    static func tierProblem(_ found: String) -> String { "must be a privacy tier from 0 to 4, not \(found)" }

    static func teeMode(_ text: String) -> BrokerConfiguration.TEEMode? { BrokerConfiguration.TEEMode(rawValue: text) }

    static func teeModeProblem(_ text: String) -> String { "must be hardware or simulator, not `\(text)`" }

    /// `sqlite:PATH` (or `sqlite://PATH`) with PATH resolved by `resolve`, or a PostgreSQL URL (`postgresql://…`,
    /// checked by ``PostgresStore/check(url:)``). A refused URL is not repeated, since it may hold a password.
    static func storeURL(_ text: String, resolve: (String) -> String) -> Checked<String> {
        let lowered = text.lowercased()
        if lowered.hasPrefix("postgresql:") || lowered.hasPrefix("postgres:") {
            if let problem = PostgresStore.check(url: text) { return .invalid(problem) }
            return .valid(text)
        }
        guard lowered.hasPrefix("sqlite:") else { return .invalid("the store URL must be sqlite:PATH or postgresql://…, not `\(text)`") }
        var path = String(text.dropFirst("sqlite:".count))
        if path.hasPrefix("//") { path.removeFirst(2) }
        guard !path.isEmpty else { return .invalid("the store URL needs a path after sqlite:") }
        return .valid("sqlite:" + resolve(path))
    }

    static let keySweepIntervals = 0...86_400

    static func keySweepIntervalProblem(_ found: String) -> String {
        "must be a number of seconds from 0 (off) to 86400 (a day), not \(found)"
    }

    static let collateralTimeouts = 1...300
    static let refreshMargins = 0...(30 * 86_400)

    static func collateralTimeoutProblem(_ found: String) -> String { "must be a number of seconds from 1 to 300, not \(found)" }

    static func refreshMarginProblem(_ found: String) -> String { "must be a number of seconds from 0 to 2592000 (30 days), not \(found)" }

    /// `true`, `false`, `1` or `0`, as the boolean environment variables take them.
    static func flag(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "1": true
        case "false", "0": false
        default: nil
        }
    }

    /// Whether `text` is an absolute HTTPS URL, or plain HTTP to this machine (a development IdP or KMS).
    /// Whether `host` only ever reaches this machine: plain HTTP is served there without `allow_plain_http`.
    static func isLoopback(_ host: String) -> Bool {
        let name = host.lowercased()
        if name == "localhost" || name == "::1" || name == "[::1]" { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    static func isSecureURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased(), !host.isEmpty
        else { return false }
        return scheme == "https" || (scheme == "http" && ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host))
    }

    /// The candidate nearest to `name` by edit distance, when near enough to be a likely typo.
    static func closest(to name: String, in candidates: [String]) -> String? {
        let ranked = candidates.map { (candidate: $0, distance: editDistance(Array(name), Array($0))) }.min { $0.distance < $1.distance }
        guard let ranked, ranked.distance <= max(1, name.count / 3) else { return nil }
        return ranked.candidate
    }

    /// Edit distance counting a swap of neighbours as one edit (`prot` is one from `port`): optimal string alignment.
    private static func editDistance(_ source: [Character], _ target: [Character]) -> Int {
        var distances = [[Int]](repeating: Array(0...target.count), count: source.count + 1)
        for i in 0...source.count { distances[i][0] = i }
        for i in source.indices {
            for j in target.indices {
                var best = min(distances[i][j + 1] + 1, distances[i + 1][j] + 1, distances[i][j] + (source[i] == target[j] ? 0 : 1))
                if i > 0, j > 0, source[i] == target[j - 1], source[i - 1] == target[j] { best = min(best, distances[i - 1][j - 1] + 1) }
                distances[i + 1][j + 1] = best
            }
        }
        return distances[source.count][target.count]
    }
}
