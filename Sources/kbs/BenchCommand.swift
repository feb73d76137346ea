import ArgumentParser
import KBSClaims
import KBSStore

/// `kbs bench …`: the floors the release benchmark (Tools/bench-release) compares the broker against.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time what a durable release cannot do without, on this machine.",
        subcommands: [Floor.self]
    )

    struct Floor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time one durable SQLite commit plus one ECDH-ES+A256KW JWE and print the figures as JSON.",
            discussion: """
                Each iteration commits one row in an IMMEDIATE transaction on a fresh SQLite database in DIR (WAL, \
                synchronous=FULL: it returns once the disk has the row, as the store's audit append does), then builds \
                the JWE a release sends (ECDH-ES+A256KW, A256GCM, P-256) with the broker's own code. The database is \
                removed afterwards. Prints one line: {"case":"floor","n":N,"p50_us":…,"p99_us":…,"mean_us":…,\
                "commit_p50_us":…,"jwe_p50_us":…}. Give DIR on the disk the server's data directory is on. A refusal \
                prints `error: <code>: <message>` and exits 1 (2 for a usage error).
                """)

        @Option(name: .customLong("dir"), help: ArgumentHelp("The directory to make the scratch database in.", valueName: "dir"))
        var directory: String

        @Option(help: "How many timed iterations.")
        var iterations = 200

        func run() throws {
            guard (1...1_000_000).contains(iterations) else { throw Refusal(code: "usage", message: "--iterations must be 1…1000000") }
            do {
                Console.out(try ReleaseFloor.measure(directory: directory, iterations: iterations).json)
            } catch {
                throw Refusal(code: error.code.rawValue, message: error.message)
            }
        }
    }
}
