import CoreMetrics
import Foundation
import HTTPTypes
import KBSBroker
import KBSClaims
import KBSPolicy
import Logging
import Synchronization

/// The policy set in service, and its reloading: compile first, then swap; a bundle that fails keeps the last good set.
final class PolicyHolder: Sendable {
    /// What a reload did.
    enum Outcome: Sendable {
        case loaded(hash: String)
        case unchanged(hash: String)
        case failed(report: String)
    }

    private struct State {
        var policy: PolicySet
        var fingerprint: [String]
        /// The diagnostics of the newest bundle when it fails to compile.
        var failure: String?
    }

    let directory: String
    private let schemas: ClaimSchemaRegistry
    private let state: Mutex<State>
    /// Serialises reloads (file watcher, SIGHUP, admin API) so that two never compile, import and swap at once.
    private let reloading = SerialGate()
    /// The view whose store receives the bundle's `entities.json`; nil for a bundle whose entities are not mirrored:
    /// only the release policy's are, so that a second bundle (the KMS API's) cannot replace them.
    private let entities: EntityView?
    private let metrics: ServerMetrics
    private let logger: Logger

    /// Loads the bundle for the first time; a bundle that does not compile is an error here.
    init(
        directory: String, schemas: ClaimSchemaRegistry, entities: EntityView?, metrics: ServerMetrics, logger: Logger
    ) async throws(ServerError) {
        self.directory = directory
        self.schemas = schemas
        self.entities = entities
        self.metrics = metrics
        self.logger = logger
        let (fingerprint, loaded) = await PolicyHolder.compile(directory: directory, schemas: schemas)
        switch loaded {
        case .failure(let error):
            throw ServerError(.internalServerError, "policy", "the policy bundle \(directory) does not compile:\n\(error)")
        case .success(let policy):
            if let entities { try await PolicyHolder.importEntities(of: policy, into: entities) }
            state = Mutex(State(policy: policy, fingerprint: fingerprint, failure: nil))
        }
    }

    /// The policy set to decide with; one request uses one set throughout.
    var current: PolicySet { state.withLock { $0.policy } }

    /// The diagnostics of a newer bundle that failed to compile, if one did.
    var failure: String? { state.withLock { $0.failure } }

    /// Reloads when any file of the bundle changed since the last attempt.
    func reloadIfChanged() async {
        let directory = directory
        let fingerprint = await Blocking.run { PolicyHolder.fingerprint(of: directory) }
        guard state.withLock({ $0.fingerprint != fingerprint }) else { return }
        await reload(trigger: "change")
    }

    /// Compiles the bundle and, when it compiles, mirrors its entities into the store and swaps it in.
    @discardableResult
    func reload(trigger: String) async -> Outcome {
        await reloading.run { () async -> Outcome in
            let (fingerprint, loaded) = await PolicyHolder.compile(directory: directory, schemas: schemas)
            switch loaded {
            case .failure(let error):
                return fail(fingerprint: fingerprint, trigger: trigger, report: error.description)
            case .success(let policy):
                if let entities {
                    do throws(ServerError) {
                        try await PolicyHolder.importEntities(of: policy, into: entities)
                    } catch {
                        return fail(fingerprint: fingerprint, trigger: trigger, report: error.message)
                    }
                }
                // Counted before the swap, so anyone who sees the new policy also sees the reload counted.
                metrics.reloadsSucceeded.increment()
                metrics.reloadFailing.record(0)
                let previous = state.withLock { state in
                    let previous = state.policy.hash
                    state = State(policy: policy, fingerprint: fingerprint, failure: nil)
                    return previous
                }
                if previous == policy.hash {
                    return .unchanged(hash: policy.hash)
                }
                logger.info("policy reloaded", metadata: ["trigger": "\(trigger)", "policy": "\(policy.hash)", "previous": "\(previous)"])
                return .loaded(hash: policy.hash)
            }
        }
    }

    /// Reads and compiles the bundle off the cooperative pool (files and a compiler), with its fingerprint taken first,
    /// so an edit landing during the compile is seen by the next check.
    private static func compile(
        directory: String, schemas: ClaimSchemaRegistry
    ) async -> (fingerprint: [String], loaded: Result<PolicySet, BundleError>) {
        await Blocking.run { (PolicyHolder.fingerprint(of: directory), PolicySet.load(directory: directory, registry: schemas)) }
    }

    private func fail(fingerprint: [String], trigger: String, report: String) -> Outcome {
        let serving = state.withLock { state in
            state.fingerprint = fingerprint
            state.failure = report
            return state.policy.hash
        }
        metrics.reloadsFailed.increment()
        metrics.reloadFailing.record(1)
        logger.error(
            "policy reload failed; the last good policy keeps serving",
            metadata: ["trigger": "\(trigger)", "serving": "\(serving)", "diagnostics": "\(report)"])
        return .failed(report: report)
    }

    private static func importEntities(of policy: PolicySet, into view: EntityView) async throws(ServerError) {
        let stored = policy.bundleEntities.all.map { entity in
            StoredEntity(
                type: entity.type, id: entity.id, attributesJSON: entity.attributesJSON,
                roles: entity.roles.map { StoredRole(role: $0.role, scope: $0.scope) }, source: .bundle)
        }
        do {
            try await view.importBundle(stored)
        } catch {
            throw ServerError(.internalServerError, "store", "cannot import the bundle's entities: \(error.message)")
        }
    }

    /// Path, size and modification time of every file in the bundle (its `tests` folder aside), sorted.
    static func fingerprint(of directory: String) -> [String] {
        var entries: [String] = []
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return ["unreadable"] }
        while let relative = walker.nextObject() as? String {
            if relative == "tests" || relative.hasPrefix("tests/") {
                walker.skipDescendants()
                continue
            }
            // Only what the loader reads: an editor's or an atomic write's temporary file is not an edit.
            let name = (relative as NSString).lastPathComponent
            guard !name.hasPrefix("."), name.hasSuffix(".policy") || name.hasSuffix(".json") else { continue }
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/" + relative),
                attributes[.type] as? FileAttributeType == .typeRegular
            else { continue }
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            entries.append("\(relative) \(attributes[.size] ?? 0) \(modified) \(attributes[.systemFileNumber] ?? 0)")
        }
        return entries.sorted()
    }
}
