import ArgumentParser
import Foundation
import KBSBroker
import KBSClaims
import KBSKeys
import KBSServer
import KBSStore

/// `kbs apikeys …`: API keys on a data directory (beside a running server), as `/kbs/v1/api-keys` manages them.
struct APIKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikeys",
        abstract: "Create, list and revoke API keys.",
        discussion: """
            An API key `kbs_k_<id>_<secret>` is a bearer credential (`Authorization: Bearer …`) for its subject \\
            (`apikey:<id>` unless --subject names another) and, with its id as keyid, an RFC 9421 hmac-sha256 signing key \\
            (subject `hmac:<id>`). The store keeps an HMAC of the secret under DATA_DIR/api-key-pepper and the secret \\
            sealed by the key hierarchy; the secret is printed once. Revocation counts at once, for a running server too.
            """,
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Common: ParsableArguments {
        @Option(help: "The data directory.") var dataDir: String

        /// The data directory's API keys; `keys` false never opens the key hierarchy (listing and revoking need no
        /// passphrase).
        func authority(keys: Bool, create: Bool = false) throws -> APIKeyAuthority {
            let directory = dataDir
            let store = try SecretsCommand.store(directory, create: create)
            let ports = BrokerPorts.sqlite(store)
            let source: KeySource
            if keys {
                let passphrase = try KeysCommand.passphrase(dataDir: directory)
                source = KeySource { try BrokerKeys.open(directory: directory, passphrase: passphrase, create: true, actor: "cli").hierarchy }
            } else {
                source = KeySource { throw KeyError(.sealed, "this command needs no key") }
            }
            let pepper: [UInt8]
            do { pepper = try ServerIdentity.apiKeyPepper(dataDirectory: directory) } catch {
                throw Refusal(code: error.code, message: error.message)
            }
            do { return try APIKeyAuthority(ports: ports, vault: ResourceVault(ports: ports, keys: source), pepper: pepper) } catch {
                throw SecretsCommand.refusal(error)
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key; prints {\"id\",\"secret\",\"subject\",\"name\"} once.")
        @OptionGroup var common: Common
        @Option(help: "What the key is for.") var name: String
        @Option(help: "The subject it stands for (default apikey:<id>).") var subject: String?

        func run() async throws {
            let authority = try common.authority(keys: true, create: true)
            do throws(BrokerError) {
                let (key, secret) = try await authority.create(subject: subject, name: name, actor: "cli")
                Console.out(
                    "{\"id\":\(JSONString.quote(key.keyID)),\"secret\":\(JSONString.quote(secret)),\"subject\":\(JSONString.quote(key.subject)),"
                        + "\"name\":\(JSONString.quote(key.name))}")
            } catch { throw SecretsCommand.refusal(error) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys, newest first (never a secret).")
        @OptionGroup var common: Common

        func run() async throws {
            let authority = try common.authority(keys: false)
            do throws(BrokerError) {
                for key in try await authority.list() {
                    let state = key.revokedAt != nil ? "revoked" : "active"
                    Console.out("\(key.keyID)  \(state)  \(key.subject)  \(key.name)")
                }
            } catch { throw SecretsCommand.refusal(error) }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key at once.")
        @OptionGroup var common: Common
        @Argument(help: "The key id.") var id: String

        func run() async throws {
            let authority = try common.authority(keys: false)
            let revoked: Bool
            do throws(BrokerError) { revoked = try await authority.revoke(id, actor: "cli") } catch { throw SecretsCommand.refusal(error) }
            guard revoked else { throw Refusal(code: "not_found", message: "no API key `\(id.prefix(64))`") }
            Console.out("revoked \(id)")
        }
    }
}
