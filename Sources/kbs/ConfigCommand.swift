import ArgumentParser
import Foundation
import KBSBroker
import KBSServer

/// `kbs config …`: the `kbs serve --config` file.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check kbs serve configuration files.",
        subcommands: [Check.self, Variables.self]
    )

    /// `kbs config variables`: the environment variables `kbs serve` reads, for scripts (`Tools/check-deploy` holds
    /// the manifests in `Deploy/` to this list).
    struct Variables: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the environment variables kbs serve reads, one a line: the name and what its value is.",
            discussion: """
                The second column is setting (a plain value), path (a file or folder the server opens), paths (folders \
                separated by commas) or secret (a credential: give it from a secret store, never in a committed file).
                """)

        func run() {
            for variable in EnvironmentVariable.allCases { Console.out("\(variable.rawValue) \(variable.value.rawValue)") }
        }
    }

    /// `kbs config check FILE`.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration file: TOML syntax, known keys, value types and ranges, and readable key files.",
            discussion: """
                Every mistake is printed on stderr as FILE:LINE: error: message (the exit status is then 1); a valid file \
                prints a one-line summary. Relative paths in the file are relative to its folder. See docs/kbs.example.toml \
                for every key.
                """)

        @Argument(help: ArgumentHelp("The TOML configuration file.", valueName: "file"))
        var file: String

        @Flag(help: "Also apply the environment variables that override the file (KBS_PORT, TEE_MODE, …), as kbs serve does.")
        var environment = false

        func run() throws {
            var outcome = ConfigurationFile.load(path: file, over: ServerConfiguration(policies: "", dataDirectory: ""))
            if environment, case .loaded(let configuration) = outcome {
                outcome = ConfigurationFile.applyingEnvironment(ProcessInfo.processInfo.environment, to: configuration)
            }
            switch outcome {
            case .loaded(let configuration):
                if let problem = configuration.storeProblem {
                    Console.err("\(file): error: \(problem)")
                    Foundation.exit(1)
                }
                Console.out("\(file): ok: \(Self.summary(configuration))")
            case .rejected(let diagnostics):
                for diagnostic in diagnostics { Console.err(diagnostic.description) }
                // The diagnostics say it all; a refusal would add a line that is not FILE:LINE: error: ….
                Foundation.exit(1)
            }
        }

        /// What the server would do, in one line.
        static func summary(_ configuration: ServerConfiguration) -> String {
            let identity = configuration.identity
            var methods = [
                "\(identity.oidc.count) OIDC issuer\(identity.oidc.count == 1 ? "" : "s")",
                "\(identity.saml.count) SAML IdP\(identity.saml.count == 1 ? "" : "s")",
            ]
            if identity.siwe != nil { methods.append("SIWE") }
            if identity.did != nil { methods.append("DID") }
            let roles = configuration.vaultJWTRoles.count
            if roles > 0 { methods.append("\(roles) Vault JWT role\(roles == 1 ? "" : "s")") }
            let policies = ([configuration.policies] + configuration.additionalPolicies).filter { !$0.isEmpty }
            return [
                "listens on \(configuration.host):\(configuration.port)",
                "policies \(policies.isEmpty ? "(not set)" : policies.joined(separator: ", "))",
                "data \(configuration.dataDirectory.isEmpty ? "(not set)" : configuration.dataDirectory)",
                "store \(configuration.storeDescription)",
                "TEE \(configuration.enableTEE ? configuration.teeMode.rawValue : "off")",
                "default tier \(configuration.defaultPrivacyTier)",
                "collateral \(configuration.collateral.fetches(in: configuration.teeMode) ? "fetched" : "not fetched")",
                methods.joined(separator: ", "),
            ].joined(separator: "; ")
        }
    }
}
