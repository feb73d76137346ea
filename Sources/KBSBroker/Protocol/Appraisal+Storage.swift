package import Foundation
import KBSClaims

/// The JSON document a session store keeps for an attested session's ``Appraisal``.
///
/// The attestation token cannot serve: it carries claims as plain JSON, where hex and times read back as text, and it
/// drops the capability grant's token. This document keeps every claim value with its type, in its field order:
///
/// ```
/// {"version":1, "id":…, "kind":…, "tier":…, "attested_at":<seconds since 2001-01-01, a double>,
///  "tee_pubkey":"<the key's canonical JCS text>", "claims":<record>, "devices":[<record>…],
///  "identity":{"subject":…, "method":…, "issuer":…, "claims":<record>, "expires":<int>?,
///              "capability":{"token_id":…, "capabilities":[…]}?}?}
/// ```
///
/// A value is an object of one member naming its type: `{"bool":true}`, `{"int":8}`, `{"string":"…"}`, `{"hex":"ab"}`,
/// `{"time":<seconds since 2001-01-01>}`, `{"list":[<value>…]}`, `{"record":[{"name":…, "value":<value>}…]}`. Doubles are
/// written in the shortest form that reads back to the same bits, so times come back exact.
///
/// The one thing left out is a capability grant's token itself: a bearer credential does not belong in a shared
/// database. A release from a stored session re-checks the grant as it does for an attestation token (the token's id
/// is neither revoked nor expired in the store, and the granted list covers the path), which decides alike.
extension Appraisal {
    /// The document's version; a reader refuses any other.
    static let storageVersion = 1

    /// The appraisal as the JSON document above (keys sorted, so equal appraisals give equal bytes).
    package func storedJSON() throws(BrokerError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return Array(try encoder.encode(StoredAppraisal(self))) } catch {
            throw BrokerError(.failed, "appraisal_encoding", "the appraisal cannot be written for the session store")
        }
    }

    /// The appraisal a session store kept (``storedJSON()``). The store is trusted storage: what it holds is believed
    /// as verified; only the TEE key is checked again, since a ``TEEPublicKey`` is only ever made from a checked JWK.
    package init(storedJSON bytes: [UInt8]) throws(BrokerError) {
        let refused = BrokerError(.unavailable, "store_unavailable", "the session store holds an appraisal this server cannot read")
        let stored: StoredAppraisal
        do { stored = try JSONDecoder().decode(StoredAppraisal.self, from: Data(bytes)) } catch { throw refused }
        guard stored.version == Self.storageVersion, let jwk = try? JSONNode.parse(Array(stored.teePublicKey.utf8)),
            let key = try? TEEPublicKey(jwk: jwk)
        else { throw refused }
        self.init(
            id: stored.id, kind: stored.kind, claims: stored.claims.record, deviceClaims: stored.devices.map(\.record), tier: stored.tier,
            teePublicKeyJSON: Array(stored.teePublicKey.utf8), teePublicKey: key,
            attestedAt: Date(timeIntervalSinceReferenceDate: stored.attestedAt))
        identity = stored.identity.map { identity in
            CallerIdentity(
                subject: identity.subject, method: identity.method, issuer: identity.issuer, claims: identity.claims.record,
                expires: identity.expires,
                capability: identity.capability.map { .init(tokenID: $0.tokenID, token: nil, capabilities: $0.capabilities) })
        }
    }
}

/// ``Appraisal`` as the stored document's members.
private struct StoredAppraisal: Codable {
    var version: Int
    var id: String
    var kind: String
    var tier: Int
    var attestedAt: Double
    var teePublicKey: String
    var claims: StoredRecord
    var devices: [StoredRecord]
    var identity: StoredIdentity?

    struct StoredIdentity: Codable {
        var subject: String
        var method: String
        var issuer: String
        var claims: StoredRecord
        var expires: Int64?
        var capability: StoredGrant?
    }

    struct StoredGrant: Codable {
        var tokenID: String
        var capabilities: [String]

        enum CodingKeys: String, CodingKey {
            case tokenID = "token_id"
            case capabilities
        }
    }

    enum CodingKeys: String, CodingKey {
        case version, id, kind, tier, claims, devices, identity
        case attestedAt = "attested_at"
        case teePublicKey = "tee_pubkey"
    }

    init(_ appraisal: Appraisal) {
        version = Appraisal.storageVersion
        id = appraisal.id
        kind = appraisal.kind
        tier = appraisal.tier
        attestedAt = appraisal.attestedAt.timeIntervalSinceReferenceDate
        // JCS output is UTF-8 JSON text, so it is kept as a string, readable in the database.
        teePublicKey = String(decoding: appraisal.teePublicKeyJSON, as: UTF8.self)
        claims = StoredRecord(appraisal.claims)
        devices = appraisal.deviceClaims.map(StoredRecord.init)
        identity = appraisal.identity.map { identity in
            StoredIdentity(
                subject: identity.subject, method: identity.method, issuer: identity.issuer, claims: StoredRecord(identity.claims),
                expires: identity.expires,
                capability: identity.capability.map { StoredGrant(tokenID: $0.tokenID, capabilities: $0.capabilities) })
        }
    }
}

/// A ``ClaimRecord`` as a list of named values, so its field order survives.
private struct StoredRecord: Codable {
    var record: ClaimRecord

    struct Field: Codable {
        var name: String
        var value: StoredValue
    }

    init(_ record: ClaimRecord) { self.record = record }

    init(from decoder: any Decoder) throws {
        let fields = try [Field](from: decoder)
        record = ClaimRecord(fields.map { ($0.name, $0.value.value) })
        guard record.fields.count == fields.count else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a record names a field twice"))
        }
    }

    func encode(to encoder: any Encoder) throws {
        try record.fields.map { Field(name: $0.name, value: StoredValue($0.value)) }.encode(to: encoder)
    }
}

/// A ``ClaimValue`` as an object of one member that names its type.
private struct StoredValue: Codable {
    var value: ClaimValue

    enum Tag: String, CodingKey {
        case bool, int, string, hex, time, list, record
    }

    init(_ value: ClaimValue) { self.value = value }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Tag.self)
        guard container.allKeys.count == 1, let tag = container.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a value names one type"))
        }
        switch tag {
        case .bool: value = .bool(try container.decode(Bool.self, forKey: tag))
        case .int: value = .int(try container.decode(Int64.self, forKey: tag))
        case .string: value = .string(try container.decode(String.self, forKey: tag))
        case .hex:
            guard let bytes = Hex.decode(try container.decode(String.self, forKey: tag)) else {
                throw DecodingError.dataCorruptedError(forKey: tag, in: container, debugDescription: "not hex")
            }
            value = .hex(bytes)
        case .time: value = .time(Date(timeIntervalSinceReferenceDate: try container.decode(Double.self, forKey: tag)))
        case .list: value = .list(try container.decode([StoredValue].self, forKey: tag).map(\.value))
        case .record: value = .record(try container.decode(StoredRecord.self, forKey: tag).record)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Tag.self)
        switch value {
        case .bool(let flag): try container.encode(flag, forKey: .bool)
        case .int(let integer): try container.encode(integer, forKey: .int)
        case .string(let text): try container.encode(text, forKey: .string)
        case .hex(let bytes): try container.encode(Hex.encode(bytes), forKey: .hex)
        case .time(let date): try container.encode(date.timeIntervalSinceReferenceDate, forKey: .time)
        case .list(let values): try container.encode(values.map(StoredValue.init), forKey: .list)
        case .record(let record): try container.encode(StoredRecord(record), forKey: .record)
        }
    }
}
