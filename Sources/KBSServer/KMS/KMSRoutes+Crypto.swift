import HTTPTypes
import KBSBroker
import KBSClaims
import KBSKeys

extension KMSRoutes {
    /// Cryptographic operations: encryption, data keys, random bytes, signatures.
    ///
    /// Plaintexts and data keys pass through here only as the base64 text of the response; the arrays that held them
    /// are wiped once the text is written.
    static let cryptoHandlers: [String: Handler] = [
        "Encrypt": { routes, call throws(ServerError) in
            let reference = try call.input.string("KeyId", required: true)!
            try routes.checkAlgorithm(call.input)
            var plaintext = try call.input.blob("Plaintext", required: true, range: 1...KeyService.maximumPlaintext)!
            defer { SecretBytes.wipe(&plaintext) }
            let context = try call.input.stringMap("EncryptionContext")
            let sealed = try await brokering { () async throws(BrokerError) in
                try await routes.keys.encrypt(call.caller, reference, plaintext: plaintext, context: context)
            }
            return object { out in
                out.member("CiphertextBlob", Base64URL.encodeStandard(sealed.ciphertext))
                out.member("EncryptionAlgorithm", "SYMMETRIC_DEFAULT")
                out.member("KeyId", routes.arn(call, key: sealed.keyID))
            }
        },
        "Decrypt": { routes, call throws(ServerError) in
            let ciphertext = try call.input.blob("CiphertextBlob", required: true, range: 1...KeyService.maximumCiphertext)!
            let context = try call.input.stringMap("EncryptionContext")
            let reference = try call.input.string("KeyId")
            try routes.checkAlgorithm(call.input)
            if try call.input.string("Recipient", range: 0...1_000_000) != nil {
                throw ServerError(.badRequest, "UnsupportedOperationException", "Recipient (Nitro Enclaves attestation) is not offered")
            }
            var opened = try await brokering { () async throws(BrokerError) in
                try await routes.keys.decrypt(call.caller, ciphertext: ciphertext, context: context, expectedKey: reference)
            }
            defer { SecretBytes.wipe(&opened.plaintext) }
            return object { out in
                out.member("EncryptionAlgorithm", "SYMMETRIC_DEFAULT")
                out.member("KeyId", routes.arn(call, key: opened.keyID))
                out.member("Plaintext", Base64URL.encodeStandard(opened.plaintext))
            }
        },
        "ReEncrypt": { routes, call throws(ServerError) in
            let ciphertext = try call.input.blob("CiphertextBlob", required: true, range: 1...KeyService.maximumCiphertext)!
            let destination = try call.input.string("DestinationKeyId", required: true)!
            let source = try call.input.string("SourceKeyId")
            for name in ["SourceEncryptionAlgorithm", "DestinationEncryptionAlgorithm"] {
                if let algorithm = try call.input.string(name), algorithm != "SYMMETRIC_DEFAULT" {
                    throw ServerError(.badRequest, "InvalidKeyUsageException", "\(name) \(algorithm.prefix(64)) is not offered; SYMMETRIC_DEFAULT is")
                }
            }
            let sourceContext = try call.input.stringMap("SourceEncryptionContext")
            let destinationContext = try call.input.stringMap("DestinationEncryptionContext")
            let (sourceID, sealed) = try await brokering { () async throws(BrokerError) in
                try await routes.keys.reEncrypt(
                    call.caller, ciphertext: ciphertext, sourceContext: sourceContext, sourceKey: source, destinationKey: destination,
                    destinationContext: destinationContext)
            }
            return object { out in
                out.member("CiphertextBlob", Base64URL.encodeStandard(sealed.ciphertext))
                out.member("DestinationEncryptionAlgorithm", "SYMMETRIC_DEFAULT")
                out.member("KeyId", routes.arn(call, key: sealed.keyID))
                out.member("SourceEncryptionAlgorithm", "SYMMETRIC_DEFAULT")
                out.member("SourceKeyId", routes.arn(call, key: sourceID))
            }
        },
        "GenerateDataKey": { routes, call throws(ServerError) in try await routes.generateDataKey(call, withPlaintext: true) },
        "GenerateDataKeyWithoutPlaintext": { routes, call throws(ServerError) in try await routes.generateDataKey(call, withPlaintext: false) },
        "GenerateRandom": { routes, call throws(ServerError) in
            guard let count = try call.input.integer("NumberOfBytes", range: 1...1024) else {
                throw KMSError.validation("NumberOfBytes is required (1 to 1024)")
            }
            var bytes = try await brokering { () async throws(BrokerError) in try await routes.keys.generateRandom(call.caller, count: count) }
            defer { SecretBytes.wipe(&bytes) }
            return object { $0.member("Plaintext", Base64URL.encodeStandard(bytes)) }
        },
        "Sign": { routes, call throws(ServerError) in
            let reference = try call.input.string("KeyId", required: true)!
            let message = try routes.signedMessage(call.input)
            let algorithm = try call.input.string("SigningAlgorithm", required: true, range: 1...64)!
            let (keyID, signature) = try await brokering { () async throws(BrokerError) in
                try await routes.keys.sign(call.caller, reference, message: message, algorithm: algorithm)
            }
            return object { out in
                out.member("KeyId", routes.arn(call, key: keyID))
                out.member("Signature", Base64URL.encodeStandard(signature))
                out.member("SigningAlgorithm", algorithm)
            }
        },
        "Verify": { routes, call throws(ServerError) in
            let reference = try call.input.string("KeyId", required: true)!
            let message = try routes.signedMessage(call.input)
            let signature = try call.input.blob("Signature", required: true, range: 1...6144)!
            let algorithm = try call.input.string("SigningAlgorithm", required: true, range: 1...64)!
            let keyID = try await brokering { () async throws(BrokerError) in
                try await routes.keys.verify(call.caller, reference, message: message, signature: signature, algorithm: algorithm)
            }
            return object { out in
                out.member("KeyId", routes.arn(call, key: keyID))
                out.key("SignatureValid")
                out.bool(true)
                out.member("SigningAlgorithm", algorithm)
            }
        },
        "GetPublicKey": { routes, call throws(ServerError) in
            let reference = try call.input.string("KeyId", required: true)!
            let (key, der) = try await brokering { () async throws(BrokerError) in try await routes.keys.publicKey(call.caller, reference) }
            return object { out in
                out.member("CustomerMasterKeySpec", key.entry.spec.rawValue)
                out.member("KeyId", routes.arn(call, key: key.entry.id))
                out.member("KeySpec", key.entry.spec.rawValue)
                out.member("KeyUsage", key.entry.usage.rawValue)
                out.member("PublicKey", Base64URL.encodeStandard(der))
                out.key("SigningAlgorithms")
                out.array { list in for name in key.entry.spec.signingAlgorithms { list.string(name) } }
            }
        },
    ]

    /// `GenerateDataKey` and `GenerateDataKeyWithoutPlaintext`: `KeySpec` (AES_256, AES_128) or `NumberOfBytes`, not both.
    private func generateDataKey(_ call: Call, withPlaintext: Bool) async throws(ServerError) -> String {
        let reference = try call.input.string("KeyId", required: true)!
        let spec = try call.input.string("KeySpec", range: 1...16)
        let number = try call.input.integer("NumberOfBytes", range: 1...1024)
        let count: Int
        switch (spec, number) {
        case (nil, nil): throw KMSError.validation("give KeySpec or NumberOfBytes")
        case (.some, .some): throw KMSError.validation("give KeySpec or NumberOfBytes, not both")
        case (nil, .some(let number)): count = number
        case (.some(let spec), nil):
            switch spec {
            case "AES_256": count = 32
            case "AES_128": count = 16
            default: throw KMSError.validation("KeySpec must be AES_256 or AES_128, not \(spec)")
            }
        }
        let context = try call.input.stringMap("EncryptionContext")
        if try call.input.string("Recipient", range: 0...1_000_000) != nil {
            throw ServerError(.badRequest, "UnsupportedOperationException", "Recipient (Nitro Enclaves attestation) is not offered")
        }
        var dataKey = try await Self.brokering { () async throws(BrokerError) in
            try await keys.generateDataKey(call.caller, reference, count: count, context: context, withPlaintext: withPlaintext)
        }
        defer { if dataKey.plaintext != nil { SecretBytes.wipe(&dataKey.plaintext!) } }
        return Self.object { out in
            out.member("CiphertextBlob", Base64URL.encodeStandard(dataKey.ciphertext))
            out.member("KeyId", arn(call, key: dataKey.keyID))
            if let plaintext = dataKey.plaintext { out.member("Plaintext", Base64URL.encodeStandard(plaintext)) }
        }
    }

    /// Refuses an `EncryptionAlgorithm` other than `SYMMETRIC_DEFAULT` (the only one symmetric keys have).
    private func checkAlgorithm(_ input: KMSInput) throws(ServerError) {
        if let algorithm = try input.string("EncryptionAlgorithm", range: 1...64), algorithm != "SYMMETRIC_DEFAULT" {
            throw ServerError(
                .badRequest, "InvalidKeyUsageException", "EncryptionAlgorithm \(algorithm.prefix(64)) is not offered; SYMMETRIC_DEFAULT is")
        }
    }

    /// `Message` with `MessageType` (RAW, the default, or DIGEST).
    private func signedMessage(_ input: KMSInput) throws(ServerError) -> SignedMessage {
        let message = try input.blob("Message", required: true, range: 1...4096)!
        switch try input.string("MessageType", range: 1...32) ?? "RAW" {
        case "RAW": return .raw(message)
        case "DIGEST": return .digest(message)
        case let other: throw KMSError.validation("MessageType must be RAW or DIGEST, not \(other.prefix(32))")
        }
    }
}
