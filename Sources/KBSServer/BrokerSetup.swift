import CoreMetrics
import Foundation
import HTTPTypes
import KBSBroker
import KBSClaims
import KBSEvidence
import KBSKeys
import KBSPolicy
import KBSStore
import KBSStorePostgres
import Logging

/// Builds the broker over the server's storage (whose key source unseals the master key): loads trust anchors, the
/// simulator CA and the tier rules, and keeps RCAR sessions where the store says.
enum BrokerSetup {
    static func make(
        configuration: ServerConfiguration, storage: ServerStorage, policies: PolicyHolder, entities: EntityView, metrics: ServerMetrics,
        logger: Logger
    ) throws(ServerError) -> Broker {
        let directory = configuration.dataDirectory
        let trust: TrustStore
        do { trust = try TrustStore.shipped.adding(directory: directory + "/trust-anchors") } catch {
            throw ServerError(.internalServerError, "trust", error.message)
        }
        var broker = BrokerConfiguration(
            teeMode: configuration.teeMode, trust: trust,
            endorsements: try files(in: directory + "/endorsements"),
            collateral: try collateral(configuration, logger: logger))
        if configuration.teeMode == .simulator {
            do { broker.simulatorCA = try SimulatorCA.openOrCreate(directory: directory + "/simulator-ca") } catch {
                throw ServerError(.internalServerError, "simulator_ca", error.message)
            }
            logger.warning(
                "TEE_MODE=simulator: evidence signed by the simulator CA is trusted; never run so in production",
                metadata: ["ca": "\(directory)/simulator-ca"])
        }
        var tierRules: TierRules?
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: configuration.tierPolicies, isDirectory: &isDirectory), isDirectory.boolValue {
            switch PolicySet.load(directory: configuration.tierPolicies, registry: configuration.claimSchemas) {
            case .success(let policy): tierRules = TierRules(policy: policy)
            case .failure(let error):
                throw ServerError(.internalServerError, "policy", "the tier rules in \(configuration.tierPolicies) do not compile:\n\(error)")
            }
        } else {
            logger.warning("no tier rules (\(configuration.tierPolicies)): every attestation reaches tier 0")
        }
        let platform = PlatformProbe(pkcs11Module: configuration.pkcs11Module).detect()
        metrics.recordPlatform(platform)
        logger.info("platform", metadata: ["capabilities": "\(platform.json)", "tier": "\(platform.tier.rawValue)"])
        var ports = storage.ports
        // RCAR sessions: in the shared store on PostgreSQL (any replica answers any step), in memory for one server.
        if let shared = storage.postgres {
            ports.sessions = PostgresRCARSessions(store: shared, capacity: broker.maxSessions, perClient: broker.maxSessionsPerClient)
        } else {
            ports.sessions = InMemoryRCARSessions(capacity: broker.maxSessions, perClient: broker.maxSessionsPerClient)
        }
        var hooks = BrokerMetrics()
        hooks.attestation = { kind, success, nanoseconds in metrics.recordAttestation(kind: kind, success: success, nanoseconds: nanoseconds) }
        hooks.release = { nanoseconds in metrics.releaseLatency.recordNanoseconds(Int64(nanoseconds)) }
        hooks.deny = { metrics.releaseDenies.increment() }
        hooks.auditFailure = { metrics.auditFailures.increment() }
        hooks.keyOperation = { operation in metrics.recordKeyOperation(operation) }
        return Broker(
            configuration: broker,
            ports: ports, keys: storage.keys,
            releasePolicy: { policies.current }, tierRules: tierRules,
            entities: { entities.snapshot() }, metrics: hooks)
    }

    /// `DATA_DIR/collateral`, in front of the vendors when fetching is on.
    private static func collateral(_ configuration: ServerConfiguration, logger: Logger) throws(ServerError) -> DiskCollateralCache {
        let settings = configuration.collateral
        let directory = URL(fileURLWithPath: configuration.dataDirectory + "/collateral")
        guard settings.fetches(in: configuration.teeMode) else {
            logger.info("collateral is not fetched: only endorsements and DATA_DIR/collateral are used", metadata: ["directory": "\(directory.path)"])
            return DiskCollateralCache(directory: directory)
        }
        let fetcher: VendorCollateralFetcher
        do { fetcher = try settings.fetcher() } catch {
            throw ServerError(.internalServerError, "collateral", error.message)
        }
        logger.info(
            "collateral the endorsements lack is fetched and kept",
            metadata: [
                "amd_kds": "\(settings.endpoints.amdKDS)", "intel_pcs": "\(settings.endpoints.intelPCS)",
                "intel_root_crl": "\(settings.endpoints.intelRootCRL)", "directory": "\(directory.path)",
            ])
        return DiskCollateralCache(directory: directory, upstream: fetcher, refreshMargin: TimeInterval(settings.refreshMarginSeconds))
    }

    /// Every regular file in `directory` (none when it does not exist), in name order.
    private static func files(in directory: String) throws(ServerError) -> [EvidenceFile] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var result: [EvidenceFile] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = directory + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ServerError(.internalServerError, "trust", "cannot read \(path)")
            }
            result.append(EvidenceFile(name: path, bytes: Array(data)))
        }
        return result
    }
}
