import ArgumentParser
import Foundation

/// The root command: `kbs <group> <command>`.
@main
struct KBSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kbs",
        abstract: "Hanzo KBS: a key broker and policy engine.",
        subcommands: [
            PolicyCommand.self, IdentityCommand.self, ZKCommand.self, EvidenceCommand.self, TrustCommand.self, TEECommand.self, KeysCommand.self,
            SecretsCommand.self,
            RefvalsCommand.self, TokensCommand.self, APIKeysCommand.self, AuditCommand.self,
            ServeCommand.self, ConfigCommand.self, BenchCommand.self,
        ]
    )

    /// Parses and runs, mapping outcomes to the exit codes every `kbs` command keeps:
    /// 0 success, 1 a reasoned refusal (`error: <code>: <message>` on stderr), 2 a usage error.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let refusal as Refusal {
            FileHandle.standardError.write(Data("error: \(refusal.code): \(refusal.message)\n".utf8))
            // DESIGN's contract: 2 for a usage error (a bad option value, an unknown kind), 1 for a reasoned refusal.
            Foundation.exit(refusal.code == "usage" ? 2 : 1)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            if code == .validationFailure {
                FileHandle.standardError.write(Data("Usage: \(usageString(for: error))\n".utf8))
            }
            Foundation.exit(code == .validationFailure ? 2 : 1)
        }
    }

    private static func usageString(for error: any Error) -> String {
        helpMessage().split(separator: "\n").first { $0.hasPrefix("USAGE:") }.map { String($0.dropFirst(7)) } ?? "kbs --help"
    }
}

/// A reasoned refusal: the command ran and the answer is no (a failing check, a deny, bad evidence).
struct Refusal: Error {
    var code: String
    var message: String
}

/// Writes to standard output or error without buffering surprises.
enum Console {
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    static func err(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}
