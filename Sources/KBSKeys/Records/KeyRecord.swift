package import Foundation
package import KBSClaims

/// What a key's state allows, after AWS KMS: only an enabled key encrypts or decrypts.
package enum KeyState: Sendable, Hashable, Codable {
    /// Usable.
    case enabled
    /// Kept, but refuses encryption and decryption until enabled again.
    case disabled
    /// Refuses use; destroyed at or after `until` unless the deletion is cancelled (which leaves it disabled).
    case pendingDeletion(until: Date)
    /// Material wiped; the record stays so the id is not reused and old ciphertexts fail with a clear reason.
    case destroyed
}

/// Whether a key wraps other keys or encrypts data.
package enum KeyKind: Sendable, Hashable, Codable {
    /// A key-encryption key, wrapped by the master key; it wraps data-encryption keys and nothing else.
    case keyEncryption
    /// A data-encryption key, wrapped by the key-encryption key `parent`.
    case dataEncryption(parent: String)
}

/// One version of a key's material, as stored: wrapped, never plaintext.
package struct KeyVersion: Sendable, Hashable, Codable {
    /// 1, 2, 3, … in creation order.
    package internal(set) var number: UInt32
    /// The material sealed by the parent (the master key for a KEK, the KEK for a DEK) in the envelope format;
    /// empty once the key is destroyed.
    package internal(set) var wrapped: [UInt8]
    /// When this version was created.
    package internal(set) var created: Date
}

/// A key and its versions: what a `KeyRecordStore` saves and loads.
///
/// Records change only through `KeyHierarchy`, which checks each transition; stores treat them as opaque values
/// (they are `Codable`, so a store may keep them as JSON).
package struct KeyRecord: Sendable, Hashable, Codable {
    /// The key id, as ciphertexts name it.
    package internal(set) var id: String
    package internal(set) var kind: KeyKind
    /// Every version, oldest first; old versions stay so their ciphertexts still decrypt.
    package internal(set) var versions: [KeyVersion]
    /// The version new encryptions use.
    package internal(set) var currentVersion: UInt32
    package internal(set) var state: KeyState
    /// The lowest privacy tier a requester must achieve for this key to be released (enforced by the broker).
    package internal(set) var requiredTier: PrivacyTier
    /// Free-form labels (owner, purpose, environment) for policies and listings.
    package internal(set) var labels: [String: String]
    package internal(set) var created: Date
    /// Bumped on every save; stores use it to refuse a save based on a stale read.
    package internal(set) var revision: Int
    /// What the material is; nil (every record made before signing keys) is AES-256. Read ``keyAlgorithm``.
    package internal(set) var algorithm: KeyAlgorithm?

    /// Whether a requester that achieved `tier` meets this key's required tier (tiers are ordered).
    package func isReleasable(to tier: PrivacyTier) -> Bool {
        tier >= requiredTier
    }

    /// The version numbered `number`, if the record has it.
    package func version(_ number: UInt32) -> KeyVersion? {
        versions.first { $0.number == number }
    }
}

/// The bounds of a deletion window, as in AWS KMS.
package enum DeletionWindow {
    /// The allowed number of days between scheduling a deletion and the earliest destruction.
    package static let days: ClosedRange<Int> = 7...30
}

extension KeyRecord {
    /// Refuses use unless the key is enabled, naming the state.
    func requireUsable() throws(KeyError) {
        switch state {
        case .enabled: return
        case .disabled: throw KeyError(.disabled, "key \(id) is disabled")
        case .pendingDeletion(let until):
            throw KeyError(.pendingDeletion, "key \(id) is scheduled for deletion at \(until)")
        case .destroyed: throw KeyError(.destroyed, "key \(id) was destroyed")
        }
    }

    mutating func disable() throws(KeyError) {
        switch state {
        case .enabled, .disabled: state = .disabled
        case .pendingDeletion: throw KeyError(.invalidState, "key \(id) is scheduled for deletion; cancel the deletion")
        case .destroyed: throw KeyError(.destroyed, "key \(id) was destroyed")
        }
    }

    mutating func enable() throws(KeyError) {
        switch state {
        case .enabled, .disabled: state = .enabled
        case .pendingDeletion:
            throw KeyError(.invalidState, "key \(id) is scheduled for deletion; cancel the deletion, then enable it")
        case .destroyed: throw KeyError(.destroyed, "key \(id) was destroyed")
        }
    }

    /// Schedules destruction `days` (7–30) days after `now` and returns the date.
    mutating func scheduleDeletion(days: Int, now: Date) throws(KeyError) -> Date {
        guard DeletionWindow.days.contains(days) else {
            throw KeyError(.invalidArgument, "a deletion window is 7 to 30 days, not \(days)")
        }
        switch state {
        case .enabled, .disabled:
            let until = now.addingTimeInterval(TimeInterval(days) * 86_400)
            state = .pendingDeletion(until: until)
            return until
        case .pendingDeletion: throw KeyError(.invalidState, "key \(id) is already scheduled for deletion")
        case .destroyed: throw KeyError(.destroyed, "key \(id) was destroyed")
        }
    }

    /// Cancels a scheduled deletion; the key comes back disabled, as in AWS KMS, so someone must enable it on purpose.
    mutating func cancelDeletion() throws(KeyError) {
        guard case .pendingDeletion = state else {
            throw KeyError(.invalidState, "key \(id) is not scheduled for deletion")
        }
        state = .disabled
    }

    /// Destroys the key when its deletion date has come: the wrapped material of every version is dropped.
    mutating func destroy(now: Date) throws(KeyError) {
        switch state {
        case .pendingDeletion(let until) where now >= until:
            for index in versions.indices { wipe(&versions[index].wrapped) }
            for index in versions.indices { versions[index].wrapped = [] }
            state = .destroyed
        case .pendingDeletion(let until):
            throw KeyError(.invalidState, "key \(id) may be destroyed from \(until), not before")
        case .destroyed: throw KeyError(.destroyed, "key \(id) was destroyed")
        case .enabled, .disabled:
            throw KeyError(.invalidState, "key \(id) must be scheduled for deletion before it is destroyed")
        }
    }

    /// Destroys the key now, whatever its state: for APIs whose own gate stands in for the deletion window (Transit's
    /// `deletion_allowed`).
    mutating func destroyImmediately() throws(KeyError) {
        if case .destroyed = state { throw KeyError(.destroyed, "key \(id) was destroyed") }
        for index in versions.indices { wipe(&versions[index].wrapped) }
        for index in versions.indices { versions[index].wrapped = [] }
        state = .destroyed
    }
}
