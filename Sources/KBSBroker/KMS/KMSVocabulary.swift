package import KBSKeys

/// What a KMS key is for, by AWS's names.
package enum KMSKeyUsage: String, Sendable, CaseIterable {
    case encryptDecrypt = "ENCRYPT_DECRYPT"
    case signVerify = "SIGN_VERIFY"
}

/// The key specs this API creates, by AWS's names, and the hierarchy algorithm behind each.
package enum KMSKeySpec: String, Sendable, CaseIterable {
    case symmetricDefault = "SYMMETRIC_DEFAULT"
    case eccNISTP256 = "ECC_NIST_P256"
    case rsa2048 = "RSA_2048"

    /// The material the hierarchy makes for it.
    package var algorithm: KeyAlgorithm {
        switch self {
        case .symmetricDefault: .aes256
        case .eccNISTP256: .p256
        case .rsa2048: .rsa2048
        }
    }

    /// The usage a key of this spec has (asymmetric keys here only sign).
    package var usage: KMSKeyUsage { self == .symmetricDefault ? .encryptDecrypt : .signVerify }

    /// AWS's signing algorithm names this spec signs with, in AWS's order.
    package var signingAlgorithms: [String] {
        SignatureScheme.schemes(for: algorithm).map(KMSSigningAlgorithm.name)
    }
}

/// AWS's signing algorithm names and the schemes behind them.
package enum KMSSigningAlgorithm {
    static let table: [(name: String, scheme: SignatureScheme)] = [
        ("ECDSA_SHA_256", .ecdsaSHA256),
        ("RSASSA_PSS_SHA_256", .rsaPSSSHA256), ("RSASSA_PSS_SHA_384", .rsaPSSSHA384), ("RSASSA_PSS_SHA_512", .rsaPSSSHA512),
        ("RSASSA_PKCS1_V1_5_SHA_256", .rsaPKCS1SHA256), ("RSASSA_PKCS1_V1_5_SHA_384", .rsaPKCS1SHA384),
        ("RSASSA_PKCS1_V1_5_SHA_512", .rsaPKCS1SHA512),
    ]

    /// The scheme AWS's name stands for; nil for a name this API does not sign with.
    package static func scheme(_ name: String) -> SignatureScheme? { table.first { $0.name == name }?.scheme }

    /// AWS's name for a scheme.
    package static func name(_ scheme: SignatureScheme) -> String { table.first { $0.scheme == scheme }?.name ?? scheme.rawValue }
}

/// How a request names a key: a key id, a key ARN, an alias name or an alias ARN.
package enum KMSKeyReference: Sendable, Equatable {
    case key(String)
    case alias(String)

    /// Parses what a `KeyId` member holds; nil when it is none of the four forms (or names another account).
    package init?(_ text: String, account: String) {
        if text.hasPrefix("alias/") {
            self = .alias(text)
            return
        }
        if text.hasPrefix("arn:") {
            // arn:<partition>:kms:<region>:<account>:key/<id> or …:alias/<name>
            let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
            guard parts.count == 6, parts[2] == "kms", parts[4] == account else { return nil }
            let resource = String(parts[5])
            if resource.hasPrefix("alias/") {
                self = .alias(resource)
            } else if resource.hasPrefix("key/"), KMSKeyReference.isKeyID(String(resource.dropFirst(4))) {
                self = .key(String(resource.dropFirst(4)))
            } else {
                return nil
            }
            return
        }
        guard KMSKeyReference.isKeyID(text) else { return nil }
        self = .key(text)
    }

    /// Whether `text` is a key id as this API mints them: a lower-case UUID.
    package static func isKeyID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                guard (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) else { return false }
            }
        }
        return true
    }

    /// Whether `name` is an alias a caller may create: `alias/` then up to 250 of `a-z A-Z 0-9 : / _ -`, and not under
    /// `alias/aws/`, which AWS reserves for its own keys.
    package static func isCreatableAlias(_ name: String) -> Bool {
        guard name.hasPrefix("alias/"), !name.hasPrefix("alias/aws/"), name.utf8.count > 6, name.utf8.count <= 256 else { return false }
        return name.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == UInt8(ascii: ":")
                || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }
}

/// The encryption context as additional authenticated data: pairs sorted by the UTF-8 bytes of their keys, each key
/// and value length-prefixed, after a label that keeps these bytes from meaning anything elsewhere in the hierarchy.
///
/// Any change to a key or value (case included), a pair added or left out, changes the bytes; the order the client
/// sent the pairs in does not.
package enum EncryptionContext {
    static let label = Array("kbs-kms/v1 encryption-context".utf8)

    /// The canonical bytes of `context`.
    package static func canonical(_ context: [String: String]) -> [UInt8] {
        var bytes = label + [0]
        append(UInt32(context.count), to: &bytes)
        for (key, value) in context.sorted(by: { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }) {
            append(UInt32(key.utf8.count), to: &bytes)
            bytes += Array(key.utf8)
            append(UInt32(value.utf8.count), to: &bytes)
            bytes += Array(value.utf8)
        }
        return bytes
    }

    private static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
}
