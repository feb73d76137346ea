import ArgumentParser
import Foundation
import KBSClaims
import KBSStore
import KBSStorePostgres

/// `kbs audit …`: check the audit log's hash chain.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check the audit log kept in a data directory's store or a PostgreSQL store.",
        subcommands: [Verify.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk the audit chain and print its length and head as JSON.",
            discussion: """
                Opens DATA_DIR/kbs.sqlite read-only, so it runs beside a live `kbs serve`; with --store \
                postgresql://…, reads the one chain every replica appends to, in one read-only snapshot. Prints \
                {"records":N,"head_seq":S,"head_hash":"HEX"} and exits 0 when every record verifies, else prints \
                `error: audit: record <seq>: <why>` and exits 1. A chain cut short still verifies: compare head_seq \
                and head_hash with a head recorded elsewhere to notice that. See docs/audit.md.
                """)

        @Option(name: .customLong("data-dir"), help: ArgumentHelp("The data directory `kbs serve` uses.", valueName: "dir"))
        var dataDirectory: String?

        @Option(
            name: .customLong("store"),
            help: ArgumentHelp("A PostgreSQL store, postgresql://user:password@host:port/database (KBS_STORE_URL).", valueName: "url"))
        var store: String?

        func validate() throws {
            guard (dataDirectory == nil) != (store == nil) else {
                throw ValidationError("give --data-dir DIR or --store postgresql://…, one of them")
            }
        }

        func run() async throws {
            let verification = try await verify()
            if let failure = verification.firstBreak {
                throw Refusal(code: "audit", message: failure.description)
            }
            let seq = verification.head.map { String($0.seq) } ?? "null"
            let hash = verification.head.map { "\"\($0.hashHex)\"" } ?? "null"
            Console.out(#"{"records":\#(verification.records),"head_seq":\#(seq),"head_hash":\#(hash)}"#)
        }

        private func verify() async throws -> AuditVerification {
            if let store {
                // Read only: no migration, one REPEATABLE READ snapshot; the URL is never echoed (it may hold a password).
                do throws(StoreError) {
                    let postgres = try await PostgresStore(url: store, migrating: false, maximumConnections: 1)
                    let result: Result<AuditVerification, StoreError>
                    do throws(StoreError) { result = .success(try await postgres.verifyAudit()) } catch { result = .failure(error) }
                    await postgres.close()
                    return try result.get()
                } catch {
                    throw Refusal(code: "store", message: error.message)
                }
            }
            let path = (dataDirectory ?? "") + "/kbs.sqlite"
            guard FileManager.default.fileExists(atPath: path) else {
                throw Refusal(code: "store", message: "no store at \(path)")
            }
            do throws(StoreError) {
                return try Store(path: path, readOnly: true).verifyAudit()
            } catch {
                throw Refusal(code: "store", message: error.message)
            }
        }
    }
}
