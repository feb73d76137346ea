import ArgumentParser
import Foundation
import KBSBroker
import KBSClaims
import KBSKeys
import KBSServer
import KBSStore

/// `kbs keys …`: the key hierarchy of a data directory (works while the server runs: SQLite WAL, compare-and-set).
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list, rotate, rewrap, disable, enable and schedule the deletion of keys.",
        discussion: """
            The master key is sealed in DATA_DIR/master.sealed under the passphrase in KBS_MASTER_PASSPHRASE, else the \
            one `kbs serve` generated in DATA_DIR/master-passphrase (created with the first key). Keys are KEKs \
            (wrapped by the master key) or, with --parent, data keys wrapped by a KEK. Every operation is appended to the audit log; each key is printed as JSON once it is durable.
            """,
        subcommands: [
            Create.self, List.self, Rotate.self, Rewrap.self, Disable.self, Enable.self, ScheduleDeletion.self, CancelDeletion.self,
        ]
    )

    struct Common: ParsableArguments {
        @Option(help: "The data directory (the store and the sealed master key).") var dataDir: String

        func open(create: Bool = false) async throws -> BrokerKeys {
            try SecretsCommand.refuseSharedStore()
            let directory = dataDir
            do {
                return try await BrokerKeys.open(
                    directory: directory, environment: ProcessInfo.processInfo.environment, create: create,
                    actor: "cli", passphrase: { try KeysCommand.passphrase(dataDir: directory) })
            } catch let error as KeyError {
                throw Refusal(code: error.reason.rawValue, message: error.message)
            } catch let error as StoreError {
                throw Refusal(code: "store", message: error.message)
            }
        }
    }

    /// The master passphrase: KBS_MASTER_PASSPHRASE, else the one `kbs serve` generated into DATA_DIR/master-passphrase.
    static func passphrase(dataDir: String) throws -> [UInt8] {
        if let given = EnvironmentVariable.masterPassphrase.value(in: ProcessInfo.processInfo.environment) { return Array(given.utf8) }
        if let data = FileManager.default.contents(atPath: dataDir + "/master-passphrase"),
            let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty
        {
            return Array(text.utf8)
        }
        throw Refusal(
            code: "usage",
            message: "set KBS_MASTER_PASSPHRASE to the master key's passphrase (or keep the DATA_DIR/master-passphrase `kbs serve` made)")
    }

    /// Runs `operation` for each id in order, printing each record as it is acknowledged.
    static func each(_ ids: [String], _ keys: BrokerKeys, action: String, _ operation: @escaping (KeyHierarchy, String) async throws -> KeyRecord)
        async throws
    {
        for id in ids {
            do {
                let record = try await keys.audited(action, id) { try await operation($0, id) }
                Console.out(BrokerKeys.json(record))
            } catch let error as KeyError {
                throw Refusal(code: error.reason.rawValue, message: error.message)
            } catch let error as StoreError {
                throw Refusal(code: "store", message: "\(id): \(error.message) (the operation was not acknowledged)")
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create keys (KEKs, or data keys under --parent).")
        @OptionGroup var common: Common
        @Argument(help: "Key ids: letters, digits, . _ - /") var ids: [String]
        @Option(help: "The KEK that wraps these data keys.") var parent: String?
        @Option(help: "The privacy tier (0-4 or a name) a release of the key needs.") var tier = "0"
        @Option(help: "A label key=value (repeatable).") var label: [String] = []
        @Flag(help: "Create at the best tier this machine offers at or below --tier (see `kbs tee detect`); a lower tier is labelled and audited.")
        var fallback = false

        func run() async throws {
            guard let requiredTier = PrivacyTier(text: tier) else { throw Refusal(code: "usage", message: "--tier `\(tier)` is not a privacy tier") }
            var labels: [String: String] = [:]
            for item in label {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty else { throw Refusal(code: "usage", message: "--label `\(item)` is not key=value") }
                labels[parts[0]] = parts[1]
            }
            let keys = try await common.open(create: true)
            if fallback {
                let platform = TEECommand.Detect.probe().detect()
                for id in ids {
                    do {
                        let record = try await keys.createWithFallback(
                            id: id, parent: parent, requested: requiredTier, labels: labels,
                            platform: platform, now: Date())
                        Console.out(BrokerKeys.json(record))
                    } catch let error as KeyError {
                        throw Refusal(code: error.reason.rawValue, message: error.message)
                    } catch let error as StoreError {
                        throw Refusal(code: "store", message: "\(id): \(error.message) (the operation was not acknowledged)")
                    }
                }
                return
            }
            try await KeysCommand.each(ids, keys, action: "create") { hierarchy, id in
                try await hierarchy.createKey(id: id, parent: parent, requiredTier: requiredTier, labels: labels, now: Date())
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every key as one JSON object a line.")
        @OptionGroup var common: Common
        func run() async throws {
            let keys = try await common.open()
            do {
                for record in try await keys.hierarchy.records() { Console.out(BrokerKeys.json(record)) }
            } catch {
                throw Refusal(code: error.reason.rawValue, message: error.message)
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a new version current; old versions still decrypt.")
        @OptionGroup var common: Common
        @Argument var ids: [String]
        func run() async throws {
            try await KeysCommand.each(ids, try await common.open(), action: "rotate") { try await $0.rotate($1, now: Date()) }
        }
    }

    struct Rewrap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rewrap data keys under their KEK's current version (after `kbs keys rotate KEK`).",
            discussion: """
                Every version of each data key is rewrapped under the current version of its key-encryption key, so that \
                older KEK versions wrap nothing any more; the data keys' material, and so every ciphertext, is unchanged. \
                --parent KEK rewraps every data key under that KEK (or, with ids, checks that each is under it). Each \
                rewrapped key is printed as JSON once durable and audited; progress, keys already wrapped by the current \
                version, keys skipped because they (or their KEK) are disabled or pending deletion, and a summary line go \
                to standard error. Ids are all checked before anything changes.
                """)
        @OptionGroup var common: Common
        @Argument(help: "Data key ids; without them, every data key under --parent.") var ids: [String] = []
        @Option(help: "The key-encryption key whose data keys to rewrap.") var parent: String?

        func validate() throws {
            if ids.isEmpty, parent == nil { throw ValidationError("name data keys, or --parent KEK for every data key under it") }
        }

        func run() async throws {
            let keys = try await common.open()
            let targets: [KeyRecord]
            do { targets = try await keys.rewrapTargets(parent: parent, ids: ids) } catch {
                throw Refusal(code: error.reason.rawValue, message: error.message)
            }
            var (rewrapped, current, skipped) = (0, 0, 0)
            for (index, target) in targets.enumerated() {
                let step = "[\(index + 1)/\(targets.count)] \(target.id)"
                let parentID: String
                if case .dataEncryption(let parent) = target.kind { parentID = parent } else { parentID = "" }
                do {
                    switch try await keys.rewrap(target.id) {
                    case .rewrapped(let record, let version):
                        rewrapped += 1
                        Console.out(BrokerKeys.json(record))
                        Console.err("\(step): rewrapped \(record.versions.count) version(s) under \(parentID) v\(version)")
                    case .current(_, let version):
                        current += 1
                        Console.err("\(step): already wrapped by \(parentID) v\(version)")
                    case .skipped(_, let error):
                        skipped += 1
                        Console.err("\(step): skipped, \(error.reason.rawValue): \(error.message)")
                    }
                } catch let error as KeyError {
                    throw Refusal(code: error.reason.rawValue, message: "\(target.id): \(error.message)")
                } catch let error as StoreError {
                    throw Refusal(code: "store", message: "\(target.id): \(error.message) (the rewrap was not acknowledged)")
                }
            }
            Console.err("rewrap: \(rewrapped) rewrapped, \(current) already current, \(skipped) skipped (of \(targets.count) data keys)")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Refuse every use of the keys until enabled.")
        @OptionGroup var common: Common
        @Argument var ids: [String]
        func run() async throws { try await KeysCommand.each(ids, try await common.open(), action: "disable") { try await $0.disable($1) } }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Allow use of disabled keys again.")
        @OptionGroup var common: Common
        @Argument var ids: [String]
        func run() async throws { try await KeysCommand.each(ids, try await common.open(), action: "enable") { try await $0.enable($1) } }
    }

    struct ScheduleDeletion: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "schedule-deletion", abstract: "Destroy the keys after 7-30 days (cancellable).")
        @OptionGroup var common: Common
        @Argument var ids: [String]
        @Option(help: "Days until destruction, 7-30.") var days = 30
        func run() async throws {
            try await KeysCommand.each(ids, try await common.open(), action: "schedule_deletion") {
                try await $0.scheduleDeletion($1, days: days, now: Date())
            }
        }
    }

    struct CancelDeletion: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel-deletion", abstract: "Keep keys pending deletion; they stay disabled.")
        @OptionGroup var common: Common
        @Argument var ids: [String]
        func run() async throws {
            try await KeysCommand.each(ids, try await common.open(), action: "cancel_deletion") { try await $0.cancelDeletion($1) }
        }
    }
}
