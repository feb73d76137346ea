import CryptoExtras
import Foundation
import KBSClaims

/// The embedded master key provider: a 32-byte master key sealed in a file, unsealed into memory at startup.
///
/// The file holds the master key encrypted (envelope format, AES-256-GCM) under a sealing key that is either derived
/// from a passphrase with scrypt or split into Shamir shares given to custodians and never stored. GCM authenticates
/// the result, so a wrong passphrase or a wrong, corrupted or mismatched set of shares is detected rather than
/// yielding a wrong master key. The file's parameters are bound into the additional data. See `docs/keys.md`.
package final class LocalMasterKeyProvider: MasterKeyProvider {
    package let masterKeyID = "local-master"
    private let master: SecretBytes

    private init(master: consuming SecretBytes) {
        self.master = master
    }

    // MARK: Creating a sealed file

    /// Generates a master key, seals it under `passphrase` into a new file at `path` (mode 0600), and returns the
    /// unsealed provider. Refuses with `alreadyExists` if `path` exists.
    package static func create(
        at path: String,
        passphrase: [UInt8],
        scrypt parameters: ScryptParameters = .standard
    ) throws(KeyError) -> LocalMasterKeyProvider {
        let (provider, sealed) = try seal(passphrase: passphrase, scrypt: parameters)
        try SecureFile.create(path, contents: sealed)
        return provider
    }

    /// Generates a master key and seals it under `passphrase` without writing a file: the sealed document (the
    /// bytes a sealed file holds) is the caller's to keep, e.g. in a store shared by several replicas.
    package static func seal(
        passphrase: [UInt8], scrypt parameters: ScryptParameters = .standard
    ) throws(KeyError) -> (provider: LocalMasterKeyProvider, sealed: [UInt8]) {
        try parameters.validate()
        guard !passphrase.isEmpty else { throw KeyError(.invalidArgument, "the passphrase is empty") }
        var salt = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in salt.indices { salt[index] = generator.next() }
        var file = SealedFile(method: .passphrase, scrypt: .init(parameters: parameters, salt: salt))
        let sealingKey = try derive(passphrase: passphrase, scrypt: file.scrypt!)
        let provider = try seal(file: &file, sealingKey: sealingKey)
        return (provider, try file.encoded())
    }

    /// Generates a master key and a random sealing key, seals the master key into a new file at `path` (mode 0600),
    /// splits the sealing key into `count` Shamir shares of which any `threshold` unseal, and returns the provider
    /// and the shares. The shares are not stored anywhere: hand them out, then drop them.
    package static func create(
        at path: String,
        threshold: Int,
        shareCount count: Int
    ) throws(KeyError) -> (provider: LocalMasterKeyProvider, shares: [ShamirShare]) {
        let sealingKey = SecretBytes.random(count: 32)
        let shares = try Shamir.split(sealingKey, threshold: threshold, count: count)
        var file = SealedFile(method: .shamir, threshold: threshold, shareCount: count)
        let provider = try seal(file: &file, sealingKey: sealingKey)
        try SecureFile.create(path, contents: try file.encoded())
        return (provider, shares)
    }

    private static func seal(file: inout SealedFile, sealingKey: borrowing SecretBytes) throws(KeyError) -> LocalMasterKeyProvider {
        let master = SecretBytes.random(count: 32)
        let aad = file.boundHeader
        let sealed = try master.withUnsafeBytes { (bytes) throws(KeyError) in
            try Envelope.seal(bytes, key: sealingKey, keyID: SealedFile.envelopeKeyID, keyVersion: 1, aad: aad)
        }
        file.sealed = Data(sealed).base64EncodedString()
        return LocalMasterKeyProvider(master: master)
    }

    // MARK: Unsealing

    /// Unseals the file at `path` with `passphrase`; a wrong passphrase fails with `wrongPassphrase`, a missing file
    /// with `sealed`.
    package static func unseal(at path: String, passphrase: [UInt8]) throws(KeyError) -> LocalMasterKeyProvider {
        try unseal(try SealedFile.read(path), named: path, passphrase: passphrase)
    }

    /// Unseals a sealed document (what ``seal(passphrase:scrypt:)`` returned) with `passphrase`; `name` says where it
    /// came from in errors.
    package static func unseal(sealed: [UInt8], named name: String, passphrase: [UInt8]) throws(KeyError) -> LocalMasterKeyProvider {
        try unseal(try SealedFile.decode(sealed, named: name), named: name, passphrase: passphrase)
    }

    private static func unseal(_ file: SealedFile, named name: String, passphrase: [UInt8]) throws(KeyError) -> LocalMasterKeyProvider {
        guard file.method == .passphrase, let scrypt = file.scrypt else {
            throw KeyError(.invalidArgument, "\(name) is sealed with \(file.method.rawValue), not a passphrase")
        }
        let sealingKey = try derive(passphrase: passphrase, scrypt: scrypt)
        do throws(KeyError) {
            return LocalMasterKeyProvider(master: try file.open(with: sealingKey))
        } catch {
            guard error.reason == .integrity else { throw error }
            throw KeyError(.wrongPassphrase, "the passphrase does not unseal \(name)")
        }
    }

    /// Unseals the file at `path` with at least `threshold` of its Shamir shares; too few, inconsistent or
    /// corrupted shares fail with `shares`, a missing file with `sealed`.
    package static func unseal(at path: String, shares: [ShamirShare]) throws(KeyError) -> LocalMasterKeyProvider {
        let file = try SealedFile.read(path)
        guard file.method == .shamir, let threshold = file.threshold else {
            throw KeyError(.invalidArgument, "\(path) is sealed with \(file.method.rawValue), not Shamir shares")
        }
        guard shares.allSatisfy({ $0.threshold == threshold }) else {
            throw KeyError(.shares, "\(path) needs shares of a \(threshold)-of-\(file.shareCount ?? 0) split")
        }
        let sealingKey = try Shamir.combine(shares)
        do throws(KeyError) {
            return LocalMasterKeyProvider(master: try file.open(with: sealingKey))
        } catch {
            guard error.reason == .integrity else { throw error }
            throw KeyError(.shares, "the shares do not reconstruct the sealing key of \(path) (one is wrong or corrupted)")
        }
    }

    private static func derive(passphrase: [UInt8], scrypt: SealedFile.Scrypt) throws(KeyError) -> SecretBytes {
        try scrypt.parameters.validate()
        do {
            let key = try KDF.Scrypt.deriveKey(
                from: passphrase, salt: scrypt.salt, outputByteCount: 32,
                rounds: 1 << scrypt.parameters.log2N, blockSize: scrypt.parameters.r,
                parallelism: scrypt.parameters.p)
            var secret = SecretBytes(zeros: 32)
            secret.withUnsafeMutableBytes { out in key.withUnsafeBytes { out.copyMemory(from: $0) } }
            return secret
        } catch {
            throw KeyError(.invalidArgument, "scrypt failed: \(error)")
        }
    }

    // MARK: MasterKeyProvider

    package func wrap(_ key: borrowing SecretBytes, context: [UInt8]) throws(KeyError) -> [UInt8] {
        try key.withUnsafeBytes { (bytes) throws(KeyError) in
            try Envelope.seal(bytes, key: master, keyID: masterKeyID, keyVersion: 1, aad: context)
        }
    }

    package func unwrap(_ wrapped: [UInt8], context: [UInt8]) throws(KeyError) -> SecretBytes {
        let (header, _) = try Envelope.header(of: wrapped)
        guard header.keyID == masterKeyID, header.keyVersion == 1 else {
            throw KeyError(.integrity, "wrapped by \(header.keyID) version \(header.keyVersion), not \(masterKeyID)")
        }
        return try Envelope.openSecret(wrapped, key: master, aad: context)
    }
}

/// The JSON document in a sealed master key file. See `docs/keys.md` for the layout.
struct SealedFile: Codable {
    enum Method: String, Codable { case passphrase, shamir }

    struct Scrypt: Codable {
        var parameters: ScryptParameters
        var salt: [UInt8]

        enum CodingKeys: String, CodingKey { case log2N, r, p, salt }

        init(parameters: ScryptParameters, salt: [UInt8]) {
            self.parameters = parameters
            self.salt = salt
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            parameters = ScryptParameters(
                log2N: try container.decode(Int.self, forKey: .log2N), r: try container.decode(Int.self, forKey: .r),
                p: try container.decode(Int.self, forKey: .p))
            guard let salt = Data(base64Encoded: try container.decode(String.self, forKey: .salt)) else {
                throw KeyError(.malformed, "the scrypt salt is not base64")
            }
            self.salt = Array(salt)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(parameters.log2N, forKey: .log2N)
            try container.encode(parameters.r, forKey: .r)
            try container.encode(parameters.p, forKey: .p)
            try container.encode(Data(salt).base64EncodedString(), forKey: .salt)
        }
    }

    static let formatName = "kbs-sealed-master-key"
    static let envelopeKeyID = "sealing-key"

    var format = SealedFile.formatName
    var version = 1
    var method: Method
    var scrypt: Scrypt?
    var threshold: Int?
    var shareCount: Int?
    /// Base64 of the master key in the envelope format under the sealing key.
    var sealed: String = ""

    init(method: Method, scrypt: Scrypt? = nil, threshold: Int? = nil, shareCount: Int? = nil) {
        self.method = method
        self.scrypt = scrypt
        self.threshold = threshold
        self.shareCount = shareCount
    }

    /// Every parameter of the file as additional data, so none can be changed without failing authentication.
    var boundHeader: [UInt8] {
        var text = "\(format)/\(version) method=\(method.rawValue)"
        if let scrypt {
            text += " log2N=\(scrypt.parameters.log2N) r=\(scrypt.parameters.r) p=\(scrypt.parameters.p)"
            text += " salt=\(Data(scrypt.salt).base64EncodedString())"
        }
        if let threshold, let shareCount { text += " threshold=\(threshold) shares=\(shareCount)" }
        return Array(text.utf8)
    }

    func encoded() throws(KeyError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { return Array(try encoder.encode(self)) + [0x0A] } catch {
            throw KeyError(.malformed, "cannot encode the sealed file: \(error)")
        }
    }

    static func read(_ path: String) throws(KeyError) -> SealedFile {
        try decode(try SecureFile.read(path, missing: KeyError(.sealed, "no sealed master key at \(path)")), named: path)
    }

    static func decode(_ bytes: [UInt8], named name: String) throws(KeyError) -> SealedFile {
        let file: SealedFile
        do { file = try JSONDecoder().decode(SealedFile.self, from: Data(bytes)) } catch {
            throw KeyError(.malformed, "\(name) is not a sealed master key file")
        }
        guard file.format == formatName, file.version == 1 else {
            throw KeyError(.malformed, "\(name) has format \(file.format) version \(file.version), expected \(formatName) 1")
        }
        return file
    }

    /// Decrypts the master key with `sealingKey`; failure is `integrity`.
    func open(with sealingKey: borrowing SecretBytes) throws(KeyError) -> SecretBytes {
        guard let envelope = Data(base64Encoded: sealed) else {
            throw KeyError(.malformed, "the sealed master key is not base64")
        }
        let master = try Envelope.openSecret(Array(envelope), key: sealingKey, aad: boundHeader)
        guard master.count == 32 else { throw KeyError(.malformed, "the sealed master key is not 32 bytes") }
        return master
    }
}
