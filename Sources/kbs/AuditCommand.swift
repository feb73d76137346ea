import ArgumentParser
import Foundation
import KBSClaims
import KBSStore

/// `kbs audit …`: check the audit log's hash chain.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check the audit log kept in a data directory's store.",
        subcommands: [Verify.self]
    )

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk the audit chain and print its length and head as JSON.",
            discussion: """
                Opens DATA_DIR/kbs.sqlite read-only, so it runs beside a live `kbs serve`. Prints \
                {"records":N,"head_seq":S,"head_hash":"HEX"} and exits 0 when every record verifies, else prints \
                `error: audit: record <seq>: <why>` and exits 1. A chain cut short still verifies: compare head_seq \
                and head_hash with a head recorded elsewhere to notice that. See docs/audit.md.
                """)

        @Option(name: .customLong("data-dir"), help: ArgumentHelp("The data directory `kbs serve` uses.", valueName: "dir"))
        var dataDirectory: String

        func run() throws {
            let path = dataDirectory + "/kbs.sqlite"
            guard FileManager.default.fileExists(atPath: path) else {
                throw Refusal(code: "store", message: "no store at \(path)")
            }
            let verification: AuditVerification
            do throws(StoreError) {
                verification = try Store(path: path, readOnly: true).verifyAudit()
            } catch {
                throw Refusal(code: "store", message: error.message)
            }
            if let failure = verification.firstBreak {
                throw Refusal(code: "audit", message: failure.description)
            }
            let seq = verification.head.map { String($0.seq) } ?? "null"
            let hash = verification.head.map { "\"\($0.hashHex)\"" } ?? "null"
            Console.out(#"{"records":\#(verification.records),"head_seq":\#(seq),"head_hash":\#(hash)}"#)
        }
    }
}
