import Foundation
import HTTPTypes
import KBSBroker
import KBSClaims

extension KMSRoutes {
    /// Key management: creating, describing and listing keys, their state, rotation, tags and aliases.
    static let keyHandlers: [String: Handler] = [
        "CreateKey": { routes, call throws(ServerError) in try await routes.createKey(call) },
        "DescribeKey": { routes, call throws(ServerError) in
            let reference = try call.input.string("KeyId", required: true)!
            let key = try await brokering { () async throws(BrokerError) in try await routes.keys.describeKey(call.caller, reference) }
            return object {
                $0.key("KeyMetadata")
                routes.metadata(key, call, into: &$0)
            }
        },
        "ListKeys": { routes, call throws(ServerError) in
            let limit = try call.input.integer("Limit", range: 1...1000) ?? 100
            let marker = try call.input.string("Marker", range: 1...1024)
            let (ids, next) = try await brokering { () async throws(BrokerError) in
                try await routes.keys.listKeys(call.caller, limit: limit, marker: marker)
            }
            return object { out in
                out.key("Keys")
                out.array { list in
                    for id in ids {
                        list.object { entry in
                            entry.member("KeyArn", routes.arn(call, key: id))
                            entry.member("KeyId", id)
                        }
                    }
                }
                if let next { out.member("NextMarker", next) }
                out.key("Truncated")
                out.bool(next != nil)
            }
        },
        "EnableKey": { routes, call throws(ServerError) in try await routes.changeState(call, "EnableKey") },
        "DisableKey": { routes, call throws(ServerError) in try await routes.changeState(call, "DisableKey") },
        "CancelKeyDeletion": { routes, call throws(ServerError) in
            let reference = try call.input.string("KeyId", required: true)!
            let key = try await brokering { () async throws(BrokerError) in
                try await routes.keys.changeState(call.caller, "CancelKeyDeletion", reference)
            }
            return object { $0.member("KeyId", routes.arn(call, key: key.entry.id)) }
        },
        "ScheduleKeyDeletion": { routes, call throws(ServerError) in
            let reference = try call.input.string("KeyId", required: true)!
            let days = try call.input.integer("PendingWindowInDays", range: 1...365) ?? 30
            let key = try await brokering { () async throws(BrokerError) in
                try await routes.keys.scheduleDeletion(call.caller, reference, days: days)
            }
            return object { out in
                out.member("KeyId", routes.arn(call, key: key.entry.id))
                if let date = key.deletionDate { out.member("DeletionDate", Int64(date.timeIntervalSince1970)) }
                out.member("KeyState", key.state)
                out.member("PendingWindowInDays", days)
            }
        },
        "EnableKeyRotation": { routes, call throws(ServerError) in
            let reference = try call.input.string("KeyId", required: true)!
            let days = try call.input.integer("RotationPeriodInDays", range: 1...10_000) ?? 365
            _ = try await brokering { () async throws(BrokerError) in try await routes.keys.setRotation(call.caller, reference, days: days) }
            return "{}"
        },
        "DisableKeyRotation": { routes, call throws(ServerError) in
            let reference = try call.input.string("KeyId", required: true)!
            _ = try await brokering { () async throws(BrokerError) in try await routes.keys.setRotation(call.caller, reference, days: nil) }
            return "{}"
        },
        "GetKeyRotationStatus": { routes, call throws(ServerError) in
            let reference = try call.input.string("KeyId", required: true)!
            let key = try await brokering { () async throws(BrokerError) in try await routes.keys.rotationStatus(call.caller, reference) }
            return object { out in
                out.member("KeyId", routes.arn(call, key: key.entry.id))
                out.key("KeyRotationEnabled")
                out.bool(key.entry.rotationPeriodDays != nil)
                if let next = key.nextRotation { out.member("NextRotationDate", Int64(next.timeIntervalSince1970)) }
                if let days = key.entry.rotationPeriodDays { out.member("RotationPeriodInDays", days) }
            }
        },
        "RotateKeyOnDemand": { routes, call throws(ServerError) in
            let reference = try call.input.string("KeyId", required: true)!
            let key = try await brokering { () async throws(BrokerError) in try await routes.keys.rotateNow(call.caller, reference) }
            return object { $0.member("KeyId", routes.arn(call, key: key.entry.id)) }
        },
        "UpdateKeyDescription": { routes, call throws(ServerError) in
            let reference = try call.input.string("KeyId", required: true)!
            let description = try call.input.string("Description", required: true, range: 0...8192)!
            try await brokering { () async throws(BrokerError) in try await routes.keys.describe(call.caller, reference, description: description) }
            return "{}"
        },
        "CreateAlias": { routes, call throws(ServerError) in try await routes.setAlias(call, update: false) },
        "UpdateAlias": { routes, call throws(ServerError) in try await routes.setAlias(call, update: true) },
        "DeleteAlias": { routes, call throws(ServerError) in
            let name = try call.input.string("AliasName", required: true, range: 1...256)!
            try await brokering { () async throws(BrokerError) in try await routes.keys.deleteAlias(call.caller, name: name) }
            return "{}"
        },
        "ListAliases": { routes, call throws(ServerError) in
            let reference = try call.input.string("KeyId")
            let limit = try call.input.integer("Limit", range: 1...100) ?? 50
            let marker = try call.input.string("Marker", range: 1...1024)
            let (aliases, next) = try await brokering { () async throws(BrokerError) in
                try await routes.keys.listAliases(call.caller, keyReference: reference, limit: limit, marker: marker)
            }
            return object { out in
                out.key("Aliases")
                out.array { list in
                    for alias in aliases {
                        list.object { entry in
                            entry.member("AliasArn", routes.arn(call, alias: alias.name))
                            entry.member("AliasName", alias.name)
                            entry.member("CreationDate", alias.createdAt / 1000)
                            entry.member("LastUpdatedDate", alias.updatedAt / 1000)
                            entry.member("TargetKeyId", alias.keyID)
                        }
                    }
                }
                if let next { out.member("NextMarker", next) }
                out.key("Truncated")
                out.bool(next != nil)
            }
        },
        "TagResource": { routes, call throws(ServerError) in
            let reference = try call.input.string("KeyId", required: true)!
            let tags = try call.input.tags("Tags", required: true)
            try await brokering { () async throws(BrokerError) in try await routes.keys.retag(call.caller, reference, add: tags, remove: []) }
            return "{}"
        },
        "UntagResource": { routes, call throws(ServerError) in
            let reference = try call.input.string("KeyId", required: true)!
            let names = try call.input.strings("TagKeys", required: true)!
            guard !names.isEmpty else { throw KMSError.validation("`TagKeys` must name at least one tag") }
            try await brokering { () async throws(BrokerError) in try await routes.keys.retag(call.caller, reference, add: [:], remove: names) }
            return "{}"
        },
        "ListResourceTags": { routes, call throws(ServerError) in
            let reference = try call.input.string("KeyId", required: true)!
            let limit = try call.input.integer("Limit", range: 1...50) ?? 50
            let marker = try call.input.string("Marker", range: 1...1024)
            let (tags, next) = try await brokering { () async throws(BrokerError) in
                try await routes.keys.listTags(call.caller, reference, limit: limit, marker: marker)
            }
            return object { out in
                if let next { out.member("NextMarker", next) }
                out.key("Tags")
                out.array { list in for tag in tags { list.object { routes.tag(tag.key, tag.value, into: &$0) } } }
                out.key("Truncated")
                out.bool(next != nil)
            }
        },
    ]

    private func createKey(_ call: Call) async throws(ServerError) -> String {
        let description = try call.input.string("Description", range: 0...8192) ?? ""
        let usage = try call.input.string("KeyUsage").map { (name) throws(ServerError) -> KMSKeyUsage in
            guard let usage = KMSKeyUsage(rawValue: name) else {
                throw KMSError.validation("KeyUsage must be ENCRYPT_DECRYPT or SIGN_VERIFY here, not \(name.prefix(64))")
            }
            return usage
        }
        var specName = try call.input.string("KeySpec")
        if specName == nil { specName = try call.input.string("CustomerMasterKeySpec") }
        let spec = try KMSKeySpec(rawValue: specName ?? "SYMMETRIC_DEFAULT").orThrow(
            ServerError(
                .badRequest, "UnsupportedOperationException",
                "KeySpec \((specName ?? "").prefix(64)) is not offered; SYMMETRIC_DEFAULT, ECC_NIST_P256, RSA_2048 are"))
        if let origin = try call.input.string("Origin"), origin != "AWS_KMS" {
            throw ServerError(.badRequest, "UnsupportedOperationException", "only Origin AWS_KMS is offered (no imported or external key material)")
        }
        if try call.input.bool("MultiRegion") == true {
            throw ServerError(.badRequest, "UnsupportedOperationException", "multi-Region keys are not offered")
        }
        if try call.input.string("Policy", range: 1...32_768) != nil {
            throw ServerError(.badRequest, "UnsupportedOperationException", "key policies are not offered: the kms policy bundle decides")
        }
        let tags = try call.input.tags("Tags")
        let key = try await Self.brokering { () async throws(BrokerError) in
            try await keys.createKey(call.caller, description: description, usage: usage, spec: spec, tags: tags)
        }
        return Self.object {
            $0.key("KeyMetadata")
            metadata(key, call, into: &$0)
        }
    }

    private func changeState(_ call: Call, _ operation: String) async throws(ServerError) -> String {
        let reference = try call.input.string("KeyId", required: true)!
        _ = try await Self.brokering { () async throws(BrokerError) in try await keys.changeState(call.caller, operation, reference) }
        return "{}"
    }

    private func setAlias(_ call: Call, update: Bool) async throws(ServerError) -> String {
        let name = try call.input.string("AliasName", required: true, range: 1...256)!
        let target = try call.input.string("TargetKeyId", required: true)!
        try await Self.brokering { () async throws(BrokerError) in try await keys.setAlias(call.caller, name: name, target: target, update: update) }
        return "{}"
    }

    /// AWS's `KeyMetadata` of a key.
    func metadata(_ key: KMSKeyView, _ call: Call, into out: inout JSONWriter) {
        out.object { meta in
            meta.member("AWSAccountId", keys.account)
            meta.member("Arn", arn(call, key: key.entry.id))
            meta.member("CreationDate", key.entry.createdAt / 1000)
            meta.member("CustomerMasterKeySpec", key.entry.spec.rawValue)
            if let date = key.deletionDate { meta.member("DeletionDate", Int64(date.timeIntervalSince1970)) }
            meta.member("Description", key.entry.description)
            meta.key("Enabled")
            meta.bool(key.state == "Enabled")
            if key.entry.usage == .encryptDecrypt {
                meta.key("EncryptionAlgorithms")
                meta.array { $0.string("SYMMETRIC_DEFAULT") }
            }
            meta.member("KeyId", key.entry.id)
            meta.member("KeyManager", "CUSTOMER")
            meta.member("KeySpec", key.entry.spec.rawValue)
            meta.member("KeyState", key.state)
            meta.member("KeyUsage", key.entry.usage.rawValue)
            meta.key("MultiRegion")
            meta.bool(false)
            meta.member("Origin", "AWS_KMS")
            if let days = key.entry.deletionWindowDays, key.deletionDate != nil { meta.member("PendingDeletionWindowInDays", days) }
            if key.entry.usage == .signVerify {
                meta.key("SigningAlgorithms")
                meta.array { list in for name in key.entry.spec.signingAlgorithms { list.string(name) } }
            }
        }
    }

    func tag(_ key: String, _ value: String, into out: inout JSONWriter) {
        out.member("TagKey", key)
        out.member("TagValue", value)
    }
}
