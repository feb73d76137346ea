import ArgumentParser
import Foundation
import KBSBroker
import KBSClaims
import KBSKeys
import KBSServer
import KBSStore

/// `kbs secrets …`: the resources the broker releases, sealed by the key hierarchy of a data directory.
struct SecretsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets",
        abstract: "Put, get, list and delete the secrets (RCAR resources) the broker releases.",
        discussion: """
            A secret lives at repo/type/tag, sealed under the data key `kbs-resources` with its path as additional \\
            data; the policy releases it to attested TEEs reaching its tier. Works beside a running server. Every \\
            change and every read is audited (never the value).
            """,
        subcommands: [Put.self, Get.self, List.self, Delete.self]
    )

    struct Common: ParsableArguments {
        @Option(help: "The data directory.") var dataDir: String

        func vault(create: Bool = false) throws -> ResourceVault {
            let directory = dataDir
            let store = try SecretsCommand.store(directory, create: create)
            let environment = ProcessInfo.processInfo.environment
            let keys = KeySource {
                try await BrokerKeys.open(
                    directory: directory, environment: environment, create: true, actor: "cli",
                    passphrase: { try KeysCommand.passphrase(dataDir: directory) }
                ).hierarchy
            }
            return ResourceVault(ports: .sqlite(store), keys: keys)
        }
    }

    static func refusal(_ error: BrokerError) -> Refusal { Refusal(code: error.code, message: error.message) }

    /// Refuses to work on a data directory when `KBS_STORE_URL` puts the servers' state in PostgreSQL: the command
    /// would write a local SQLite store no server reads, so the write would look done and be lost.
    static func refuseSharedStore() throws {
        guard let url = EnvironmentVariable.storeURL.value(in: ProcessInfo.processInfo.environment), !url.lowercased().hasPrefix("sqlite:")
        else { return }
        throw Refusal(
            code: "store",
            message: "KBS_STORE_URL names a PostgreSQL store, and this command works on a data directory's SQLite store: use the admin API "
                + "of any replica (/kbs/v1/keys, /kbs/v1/resources, /kbs/v1/tokens, /kbs/v1/api-keys), or unset KBS_STORE_URL for a local store")
    }

    /// The store of `directory`; with `create`, the directory (0700) and store are made when missing.
    static func store(_ directory: String, create: Bool) throws -> Store {
        try refuseSharedStore()
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard create else { throw Refusal(code: "not_found", message: "no data directory at \(directory)") }
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch { throw Refusal(code: "io", message: "cannot create \(directory): \(error.localizedDescription)") }
        }
        do { return try Store(directory: directory) } catch { throw Refusal(code: "store", message: error.message) }
    }

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Seal a secret from a file or standard input at repo/type/tag.")
        @OptionGroup var common: Common
        @Argument(help: "repo/type/tag") var path: String
        @Option(help: ArgumentHelp("Read the value from this file ('-' or absent: standard input).", valueName: "file")) var file: String?
        @Option(help: "The privacy tier (0-4 or a name) a release needs.") var tier = "2"
        @Option(help: "A label key=value (repeatable); `role=NAME` asks the policy for that role.") var label: [String] = []

        func run() async throws {
            guard let requiredTier = PrivacyTier(text: tier) else { throw Refusal(code: "usage", message: "--tier `\(tier)` is not a privacy tier") }
            var labels: [String: String] = [:]
            for item in label {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty else { throw Refusal(code: "usage", message: "--label `\(item)` is not key=value") }
                labels[parts[0]] = parts[1]
            }
            let handle: FileHandle
            if let file, file != "-" {
                guard let opened = FileHandle(forReadingAtPath: file) else { throw Refusal(code: "io", message: "cannot read \(file)") }
                handle = opened
            } else {
                handle = .standardInput
            }
            var bytes = Array(handle.readDataToEndOfFile())
            let value = SecretBytes(copying: bytes)
            SecretBytes.wipe(&bytes)
            let vault = try common.vault(create: true)
            do throws(BrokerError) {
                let info = try await vault.putResource(path: path, value: value, requiredTier: requiredTier.rawValue, labels: labels, actor: "cli")
                Console.out(
                    "{\"path\":\"\(info.path)\",\"required_tier\":\(info.requiredTier),\"labels\":\(info.labelsJSON),\"created\":\(info.created)}")
            } catch { throw SecretsCommand.refusal(error) }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a secret's value to standard output (or --out FILE, a new file created 0600).",
            discussion: "For administrators holding the master passphrase; the read is audited. Workloads fetch secrets over RCAR.")
        @OptionGroup var common: Common
        @Argument(help: "repo/type/tag") var path: String
        @Option(
            help: ArgumentHelp(
                "Write the value to this new file (mode 0600; an existing file or symlink is refused) instead of standard output.",
                valueName: "file")) var out: String?

        func run() async throws {
            let vault = try common.vault()
            let descriptor = try out.map(Self.create) ?? 1
            defer { if out != nil { close(descriptor) } }
            let value: SecretBytes
            do throws(BrokerError) { value = try await vault.resourceValue(path: path, actor: "cli") } catch {
                if let out { unlink(out) }
                throw SecretsCommand.refusal(error)
            }
            let written: Bool = value.withUnsafeBytes { bytes in
                write(descriptor, bytes.baseAddress, bytes.count) == bytes.count && (out == nil || fsync(descriptor) == 0)
            }
            guard written else {
                if let out { unlink(out) }
                throw Refusal(code: "io", message: "cannot write the value to \(out ?? "standard output")")
            }
        }

        /// A new file at `path`, open for writing with mode 0600. An existing file may be readable by others (and would
        /// keep its mode) and a symlink may point anywhere, so both are refused, even a dangling link.
        static func create(_ path: String) throws -> Int32 {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard descriptor < 0 else { return descriptor }
            let reason = errno
            if reason == EEXIST || reason == ELOOP {
                throw Refusal(
                    code: "exists", message: "\(path) already exists; the value is written only to a new file (remove it or choose another path)")
            }
            throw Refusal(code: "io", message: "cannot create \(path): \(String(cString: strerror(reason)))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every secret's path, tier and labels (never values), one JSON object a line.")
        @OptionGroup var common: Common

        func run() async throws {
            do {
                for info in try await common.vault().resources() {
                    Console.out("{\"path\":\"\(info.path)\",\"required_tier\":\(info.requiredTier),\"labels\":\(info.labelsJSON)}")
                }
            } catch let error as BrokerError { throw SecretsCommand.refusal(error) }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete secrets.")
        @OptionGroup var common: Common
        @Argument(help: "repo/type/tag …") var paths: [String]

        func run() async throws {
            let vault = try common.vault()
            for path in paths {
                do {
                    guard try await vault.deleteResource(path: path, actor: "cli") else {
                        throw Refusal(code: "not_found", message: "no secret at \(path)")
                    }
                } catch let error as BrokerError { throw SecretsCommand.refusal(error) }
                Console.err("deleted \(path)")
            }
        }
    }
}

/// `kbs refvals …`: reference values (allowed measurements and the like) the default policy reads beside its data.
struct RefvalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refvals",
        abstract: "Add, remove and list run-time reference values (e.g. allowed launch measurements).",
        discussion: "The default policy allows a measurement listed in its bundle's measurements.json or added here as kind NAME measurement.",
        subcommands: [Add.self, Remove.self, List.self]
    )

    static func vault(_ dataDir: String, create: Bool = false) throws -> ResourceVault {
        let store = try SecretsCommand.store(dataDir, create: create)
        // Reference values need no key: a source that is never opened.
        return ResourceVault(ports: .sqlite(store), keys: KeySource { throw KeyError(.sealed, "reference values need no key") })
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add allowed values (hex) for one claim of one evidence kind.")
        @Option(help: "The data directory.") var dataDir: String
        @Option(help: "The evidence kind: snp, tdx, nvidia, …") var kind: String
        @Option(help: "The claim: measurement, host_data, …") var name: String
        @Argument(help: "Values as hex.") var values: [String]

        func run() async throws {
            do {
                let added = try await RefvalsCommand.vault(dataDir, create: true).addReferenceValues(
                    kind: kind, name: name, values: values, actor: "cli")
                Console.out("{\"kind\":\"\(kind)\",\"name\":\"\(name)\",\"added\":\(added)}")
            } catch let error as BrokerError { throw SecretsCommand.refusal(error) }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove allowed values (hex) of one claim of one evidence kind; a running server stops accepting them at its next request.")
        @Option(help: "The data directory.") var dataDir: String
        @Option(help: "The evidence kind: snp, tdx, nvidia, …") var kind: String
        @Option(help: "The claim: measurement, host_data, …") var name: String
        @Argument(help: "Values as hex.") var values: [String]

        func run() async throws {
            do {
                let removed = try await RefvalsCommand.vault(dataDir).removeReferenceValues(kind: kind, name: name, values: values, actor: "cli")
                Console.out("{\"kind\":\"\(kind)\",\"name\":\"\(name)\",\"removed\":\(removed)}")
            } catch let error as BrokerError { throw SecretsCommand.refusal(error) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the reference values as one JSON object: kind → name → values.")
        @Option(help: "The data directory.") var dataDir: String

        func run() async throws {
            do {
                let all = try await RefvalsCommand.vault(dataDir).referenceValues()
                let data = try JSONSerialization.data(withJSONObject: all, options: [.sortedKeys])
                Console.out(String(decoding: data, as: UTF8.self))
            } catch let error as BrokerError { throw SecretsCommand.refusal(error) }
        }
    }
}
