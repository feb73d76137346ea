import Foundation
import KBSClaims
package import KBSKeys

extension VaultService {
    /// Rotates every enabled Transit key whose `auto_rotate_period` has passed since its newest version, for the key
    /// sweeper of `kbs serve`: what is due is read from the entries and `records` alone, so a sweep with nothing due
    /// never opens the key hierarchy. A key another replica rotated first is left to it.
    package func sweepTransitRotations(records: any KeyRecordStore) async -> KeySweep {
        var sweep = KeySweep()
        let names: [String]
        do { names = try await repository.names(.transitKey, prefix: "", limit: 100_000) } catch {
            sweep.failures.append(.init(key: "*", code: "store_unavailable", message: "the Transit keys cannot be listed"))
            return sweep
        }
        let now = broker.clock()
        for name in names {
            if Task.isCancelled {
                sweep.interrupted = true
                break
            }
            do {
                guard let (entry, _) = try await load(TransitKeyEntry.self, .transitKey, name), entry.autoRotatePeriod > 0,
                    let record = try? await records.load(entry.keyID), case .enabled = record.state,
                    let newest = record.version(record.currentVersion), now.timeIntervalSince(newest.created) >= Double(entry.autoRotatePeriod)
                else { continue }
                let rotated = try await rotatedIfDue(TransitKeyView(entry: entry, record: record))
                if rotated.latestVersion > Int(record.currentVersion) { sweep.rotated.append(entry.keyID) }
            } catch {
                sweep.failures.append(.init(key: "transit/\(name)", code: error.code, message: error.message))
            }
        }
        return sweep
    }
}
