import ArgumentParser
import Foundation
import KBSBroker
import KBSClaims
import KBSKeys
import KBSStore

/// `kbs tokens …`: capability tokens for agents, on a data directory (beside a running server).
struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Issue, verify, attenuate, revoke and list capability tokens for agents.",
        discussion: """
            A token grants capabilities `action:resource` (a resource ending in `*` covers every resource it \\
            begins) until it expires. It is an HMAC chain rooted in the data key `kbs-capabilities`: any holder can \\
            narrow it with `attenuate` (no key needed), nobody can widen it. Revocation is recorded in the data \\
            directory's store and counts at once, for a running server too. Issuing and revoking are audited; the \\
            token itself is printed once and stored nowhere.
            """,
        subcommands: [Issue.self, Verify.self, Attenuate.self, Revoke.self, List.self]
    )

    struct Common: ParsableArguments {
        @Option(help: "The data directory.") var dataDir: String

        /// The authority of the data directory; with `keys` false, one whose key hierarchy is never opened (revoking
        /// and listing need no key, so no passphrase).
        func authority(keys: Bool, create: Bool = false) throws -> CapabilityAuthority {
            let directory = dataDir
            let store = try SecretsCommand.store(directory, create: create)
            guard keys else {
                return CapabilityAuthority(ports: .sqlite(store), keys: KeySource { throw KeyError(.sealed, "this command needs no key") })
            }
            let passphrase = try KeysCommand.passphrase(dataDir: directory)
            let source = KeySource { try BrokerKeys.open(directory: directory, passphrase: passphrase, create: true, actor: "cli").hierarchy }
            return CapabilityAuthority(ports: .sqlite(store), keys: source)
        }
    }

    /// Seconds in `90`, `90s`, `10m`, `1h` or `1d`.
    static func seconds(_ text: String) throws -> TimeInterval {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        var digits = Substring(text)
        var unit = 1.0
        if let last = text.last, let scale = units[last] {
            unit = scale
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = Int(digits), value > 0 else {
            throw Refusal(code: "usage", message: "`\(text)` is not a duration such as 90s, 10m, 1h or 1d")
        }
        return Double(value) * unit
    }

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a token; prints {\"token\",\"id\",\"expires\"} (seconds since 1970).")
        @OptionGroup var common: Common
        @Option(help: "The agent the token is for.") var agent: String
        @Option(help: "A capability action:resource (repeatable).") var cap: [String] = []
        @Option(help: "How long it lasts: 90s, 10m, 1h, 1d (at most 1d).") var ttl = "15m"

        func run() async throws {
            let lifetime = try TokensCommand.seconds(ttl)
            let authority = try common.authority(keys: true, create: true)
            do throws(BrokerError) {
                let issued = try await authority.issue(agent: agent, capabilities: cap, lifetime: lifetime, actor: "cli")
                Console.out(CapabilityAuthority.json(issued))
            } catch { throw SecretsCommand.refusal(error) }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a token (and that it grants --cap); prints what it allows, or exits 1 with the reason.")
        @OptionGroup var common: Common
        @Argument(help: "The token.") var token: String
        @Option(help: "A capability action:resource the token must grant.") var cap: String?

        func run() async throws {
            let authority = try common.authority(keys: true)
            do throws(BrokerError) {
                let verified = try await authority.verify(token, capability: cap)
                Console.out(CapabilityAuthority.json(verified))
            } catch { throw SecretsCommand.refusal(error) }
        }
    }

    struct Attenuate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Narrow a token: keep only what --cap also allows, end it within --ttl. Needs no data directory or key.")
        @Argument(help: "The token.") var token: String
        @Option(help: "A capability action:resource to keep (repeatable); absent: the capabilities stay.") var cap: [String] = []
        @Option(help: "End it within this long: 90s, 10m, 1h, 1d.") var ttl: String?

        func run() async throws {
            let expires = try ttl.map { Date().addingTimeInterval(try TokensCommand.seconds($0)) }
            do throws(BrokerError) {
                let narrowed = try CapabilityAuthority.attenuate(token, capabilities: cap.isEmpty ? nil : cap, expires: expires)
                Console.out(narrowed)
            } catch { throw SecretsCommand.refusal(error) }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke tokens by id; at once, for a running server too.")
        @OptionGroup var common: Common
        @Argument(help: "Token ids.") var ids: [String]

        func run() async throws {
            let authority = try common.authority(keys: false)
            for id in ids {
                do throws(BrokerError) {
                    guard try await authority.revoke(id, actor: "cli") else {
                        throw BrokerError(.notFound, "not_found", "no token \(id) was issued here")
                    }
                } catch { throw SecretsCommand.refusal(error) }
                Console.err("revoked \(id)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every issued token's metadata (never the token), one JSON object a line.")
        @OptionGroup var common: Common

        func run() async throws {
            let authority = try common.authority(keys: false)
            do throws(BrokerError) {
                for stored in try await authority.tokens() { Console.out(CapabilityAuthority.json(stored)) }
            } catch { throw SecretsCommand.refusal(error) }
        }
    }
}
