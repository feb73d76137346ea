import CoreMetrics
import Foundation
import HTTPTypes
import KBSClaims
import KBSPolicy
import KBSStore
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
    /// Serialises reloads (file watcher, SIGHUP, admin API) so that two never compile and swap at once.
    private let reloading = Mutex(())
    private let store: Store
    private let entities: EntityView
    private let metrics: ServerMetrics
    private let logger: Logger
    /// Whether the bundle's `entities.json` is mirrored into the store: only the release policy's is, so that a
    /// second bundle (the KMS API's) cannot replace its entities.
    private let importsEntities: Bool

    /// Loads the bundle for the first time; a bundle that does not compile is an error here.
    init(
        directory: String, schemas: ClaimSchemaRegistry, store: Store, entities: EntityView, metrics: ServerMetrics, logger: Logger,
        importsEntities: Bool = true
    ) throws(ServerError) {
        self.directory = directory
        self.importsEntities = importsEntities
        self.schemas = schemas
        self.store = store
        self.entities = entities
        self.metrics = metrics
        self.logger = logger
        let fingerprint = PolicyHolder.fingerprint(of: directory)
        switch PolicySet.load(directory: directory, registry: schemas) {
        case .failure(let error):
            throw ServerError(.internalServerError, "policy", "the policy bundle \(directory) does not compile:\n\(error)")
        case .success(let policy):
            if importsEntities { try PolicyHolder.importEntities(of: policy, into: store, view: entities) }
            state = Mutex(State(policy: policy, fingerprint: fingerprint, failure: nil))
        }
    }

    /// The policy set to decide with; one request uses one set throughout.
    var current: PolicySet { state.withLock { $0.policy } }

    /// The diagnostics of a newer bundle that failed to compile, if one did.
    var failure: String? { state.withLock { $0.failure } }

    /// Reloads when any file of the bundle changed since the last attempt.
    func reloadIfChanged() {
        let fingerprint = PolicyHolder.fingerprint(of: directory)
        guard state.withLock({ $0.fingerprint != fingerprint }) else { return }
        _ = reload(trigger: "change")
    }

    /// Compiles the bundle and, when it compiles, swaps it in and mirrors its entities into the store.
    @discardableResult
    func reload(trigger: String) -> Outcome {
        reloading.withLock { _ in
            let fingerprint = PolicyHolder.fingerprint(of: directory)
            switch PolicySet.load(directory: directory, registry: schemas) {
            case .failure(let error):
                return fail(fingerprint: fingerprint, trigger: trigger, report: error.description)
            case .success(let policy):
                do throws(ServerError) {
                    if importsEntities { try PolicyHolder.importEntities(of: policy, into: store, view: entities) }
                } catch {
                    return fail(fingerprint: fingerprint, trigger: trigger, report: error.message)
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

    private static func importEntities(of policy: PolicySet, into store: Store, view: EntityView) throws(ServerError) {
        let stored = policy.bundleEntities.all.map { entity in
            StoredEntity(
                type: entity.type, id: entity.id, attributesJSON: entity.attributesJSON,
                roles: entity.roles.map { StoredRole(role: $0.role, scope: $0.scope) }, source: .bundle)
        }
        do {
            try store.importBundle(stored)
            try view.reloadAll()
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
