import KBSClaims
package import KBSKeys

extension BrokerKeys {
    /// What rewrapping did to one data key.
    package enum RewrapOutcome: Sendable {
        /// Every version is now wrapped by version `kekVersion` of the key's KEK; the record as saved.
        case rewrapped(KeyRecord, kekVersion: UInt32)
        /// Every version was wrapped by the KEK's current version already, so nothing was written.
        case current(KeyRecord, kekVersion: UInt32)
        /// The key (or its KEK) refuses use, disabled, pending deletion or destroyed, so it was left as it is; the
        /// refusal is audited. It can be rewrapped once enabled.
        case skipped(KeyRecord, KeyError)
    }

    /// The data keys `kbs keys rewrap` covers, in the order to rewrap them: `ids`, each a data key and under `parent`
    /// when one is named; else every data key under `parent`, in id order.
    ///
    /// Everything is checked before anything changes, so bad input rewraps nothing: an unknown id is `not_found`; a
    /// key-encryption key among `ids`, a data key as `parent`, or an id not under `parent` is `invalid_argument`; a
    /// `parent` that is not enabled refuses as its state does, since nothing under it can be unwrapped.
    package func rewrapTargets(parent: String?, ids: [String]) async throws(KeyError) -> [KeyRecord] {
        if let parent {
            let kek = try await hierarchy.record(parent)
            guard case .keyEncryption = kek.kind else {
                throw KeyError(.invalidArgument, "key \(parent) is a data key; --parent names the key-encryption key whose data keys to rewrap")
            }
            try kek.requireEnabled()
        }
        guard ids.isEmpty else {
            var targets: [KeyRecord] = []
            for id in ids {
                let record = try await hierarchy.record(id)
                guard case .dataEncryption(let kek) = record.kind else {
                    throw KeyError(.invalidArgument, "key \(id) is a key-encryption key; rewrap takes data keys, or --parent \(id) for all under it")
                }
                if let parent, kek != parent { throw KeyError(.invalidArgument, "key \(id) is wrapped by \(kek), not \(parent)") }
                targets.append(record)
            }
            return targets
        }
        return try await hierarchy.records().filter { record in
            guard case .dataEncryption(let kek) = record.kind else { return false }
            return kek == parent
        }
    }

    /// Rewraps every version of data key `id` under its KEK's current version (`KeyHierarchy.rewrap`), audited as
    /// `rewrap` like every `kbs keys` operation, refusals included. A key wrapped so already is left alone (a rerun after
    /// an interruption redoes nothing), and one that refuses use is skipped. A revision conflict, another writer (the
    /// server rotating the key, say) saving it meanwhile, reads it again and retries, up to three times in all.
    package func rewrap(_ id: String) async throws -> RewrapOutcome {
        var attempt = 0
        while true {
            attempt += 1
            let record = try await hierarchy.record(id)
            guard case .dataEncryption(let parentID) = record.kind else {
                throw KeyError(.invalidArgument, "key \(id) is a key-encryption key; rewrap takes data keys")
            }
            let parent = try await hierarchy.record(parentID)
            if Self.isWrapped(record, by: parent) { return .current(record, kekVersion: parent.currentVersion) }
            do {
                let saved = try await audited("rewrap", id) { try await $0.rewrap(id) }
                // The KEK version the hierarchy wrapped under, which a rotation meanwhile may have moved past `parent`'s.
                let wrapper = saved.versions.first.flatMap { try? KeyHierarchy.ciphertextKey($0.wrapped) }
                return .rewrapped(saved, kekVersion: wrapper?.version ?? parent.currentVersion)
            } catch let error as KeyError {
                switch error.reason {
                case .disabled, .pendingDeletion, .destroyed: return .skipped(record, error)
                case .conflict where attempt < 3: continue
                default: throw error
                }
            }
        }
    }

    /// Whether every version of `record` is wrapped by the current version of `parent`.
    static func isWrapped(_ record: KeyRecord, by parent: KeyRecord) -> Bool {
        record.versions.allSatisfy { version in
            guard let wrapper = try? KeyHierarchy.ciphertextKey(version.wrapped) else { return false }
            return wrapper.id == parent.id && wrapper.version == parent.currentVersion
        }
    }
}
