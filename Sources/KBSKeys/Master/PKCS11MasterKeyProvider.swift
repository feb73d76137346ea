import CPKCS11
import KBSClaims

/// A master key provider whose master key is an AES-256 key inside a PKCS#11 token (an HSM, or SoftHSM2), used
/// through the module's C API and never extracted.
///
/// `create` generates the key on the token (sensitive, not extractable, for encryption and decryption only); `open`
/// finds it again by label. `wrap` encrypts a key with `CKM_AES_GCM` on the token under a fresh random 12-byte IV,
/// with the caller's `context` as additional data and a 128-bit tag, and returns `PKCS11WrappedKey`'s format; `unwrap`
/// decrypts on the token. The module is loaded with `dlopen` (nothing links against it) and initialized once per
/// process; calls into it are serialized, so one provider may be shared by concurrent tasks (they queue). See
/// `docs/keys.md`, "PKCS#11 master key (SoftHSM2)".
///
/// Errors: a PIN the token rejects is `wrongPassphrase`; a module that does not load, a missing token, a locked PIN
/// or any other failure of the token is `sealed`, its message naming the PKCS#11 function and return code
/// (`C_Login: CKR_PIN_LOCKED`); a key label already on the token is `alreadyExists` (`create`), a missing one
/// `notFound` (`open`); wrapped bytes that fail the tag are `integrity`, bytes that do not parse `malformed`.
package final class PKCS11MasterKeyProvider: MasterKeyProvider {
    /// Where the token and the key are.
    package struct Configuration: Sendable, Hashable, CustomStringConvertible {
        /// Debian's SoftHSM2 module (package `softhsm2`).
        package static let softHSM2ModulePath = "/usr/lib/softhsm/libsofthsm2.so"

        /// The PKCS#11 module (shared library) to load.
        package var modulePath: String
        /// The label of the token that holds the key (1–32 bytes of UTF-8, as PKCS#11 pads labels to 32).
        package var tokenLabel: String
        /// The `CKA_LABEL` of the master key on the token (1–255 bytes of UTF-8).
        package var keyLabel: String

        /// Creates a configuration; the user PIN is passed to `create` or `open` separately, so that a configuration
        /// can be printed and stored.
        package init(modulePath: String = Configuration.softHSM2ModulePath, tokenLabel: String, keyLabel: String) {
            self.modulePath = modulePath
            self.tokenLabel = tokenLabel
            self.keyLabel = keyLabel
        }

        package var description: String { "\(modulePath) token \(tokenLabel) key \(keyLabel)" }

        func validate() throws(KeyError) {
            guard !modulePath.isEmpty else { throw KeyError(.invalidArgument, "the PKCS#11 module path is empty") }
            guard (1...32).contains(tokenLabel.utf8.count), tokenLabel.last != " " else {
                throw KeyError(.invalidArgument, "a token label is 1–32 bytes and does not end in a space")
            }
            guard (1...255).contains(keyLabel.utf8.count) else {
                throw KeyError(.invalidArgument, "a key label is 1–255 bytes")
            }
        }
    }

    /// `pkcs11:<token label>/<key label>`.
    package let masterKeyID: String
    /// Where the key is.
    package let configuration: Configuration
    private let session: PKCS11Session
    private let key: CK_OBJECT_HANDLE

    private init(configuration: Configuration, session: PKCS11Session, key: CK_OBJECT_HANDLE) {
        self.configuration = configuration
        self.session = session
        self.key = key
        masterKeyID = "pkcs11:\(configuration.tokenLabel)/\(configuration.keyLabel)"
    }

    // MARK: Creating and opening

    /// Logs in to the token with the user `pin`, generates the master key under `configuration.keyLabel` and returns
    /// the provider. Refuses with `alreadyExists` if any object on the token has that label.
    ///
    /// PKCS#11 has no unique labels: two processes creating the same label at the same instant could both succeed;
    /// `open` then refuses the label with `invalidState`. Create the key once, at setup.
    package static func create(_ configuration: Configuration, pin: [UInt8]) throws(KeyError) -> PKCS11MasterKeyProvider {
        try configuration.validate()
        let module = try PKCS11Module.load(configuration.modulePath)
        let session = try PKCS11Session(module: module, tokenLabel: configuration.tokenLabel, pin: pin, readWrite: true)
        var existing = PKCS11Template()
        existing.add(CK_ATTRIBUTE_TYPE(CKA_LABEL), configuration.keyLabel)
        guard try session.find(existing).isEmpty else {
            throw KeyError(.alreadyExists, "token \(configuration.tokenLabel) already has an object labelled \(configuration.keyLabel)")
        }
        let key = try session.generateKey(CK_MECHANISM_TYPE(CKM_AES_KEY_GEN), masterKeyTemplate(label: configuration.keyLabel))
        return PKCS11MasterKeyProvider(configuration: configuration, session: session, key: key)
    }

    /// Logs in to the token with the user `pin` and finds the master key by label; `notFound` if there is none.
    package static func open(_ configuration: Configuration, pin: [UInt8]) throws(KeyError) -> PKCS11MasterKeyProvider {
        try configuration.validate()
        let module = try PKCS11Module.load(configuration.modulePath)
        let session = try PKCS11Session(module: module, tokenLabel: configuration.tokenLabel, pin: pin, readWrite: false)
        var search = PKCS11Template()
        search.add(CK_ATTRIBUTE_TYPE(CKA_CLASS), CK_ULONG(CKO_SECRET_KEY))
        search.add(CK_ATTRIBUTE_TYPE(CKA_TOKEN), true)
        search.add(CK_ATTRIBUTE_TYPE(CKA_LABEL), configuration.keyLabel)
        let keys = try session.find(search)
        guard let key = keys.first else {
            throw KeyError(.notFound, "token \(configuration.tokenLabel) has no secret key labelled \(configuration.keyLabel)")
        }
        guard keys.count == 1 else {
            throw KeyError(.invalidState, "token \(configuration.tokenLabel) has \(keys.count) keys labelled \(configuration.keyLabel)")
        }
        let type = try session.attribute(CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), of: key)
        guard type == withUnsafeBytes(of: CK_KEY_TYPE(CKK_AES), { Array($0) }) else {
            throw KeyError(.invalidState, "the key labelled \(configuration.keyLabel) is not an AES key")
        }
        return PKCS11MasterKeyProvider(configuration: configuration, session: session, key: key)
    }

    /// A token AES-256 key that can encrypt and decrypt on the token and do nothing else, and never leaves it.
    private static func masterKeyTemplate(label: String) -> PKCS11Template {
        var template = PKCS11Template()
        template.add(CK_ATTRIBUTE_TYPE(CKA_CLASS), CK_ULONG(CKO_SECRET_KEY))
        template.add(CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), CK_ULONG(CKK_AES))
        template.add(CK_ATTRIBUTE_TYPE(CKA_VALUE_LEN), CK_ULONG(32))
        template.add(CK_ATTRIBUTE_TYPE(CKA_LABEL), label)
        template.add(CK_ATTRIBUTE_TYPE(CKA_TOKEN), true)
        template.add(CK_ATTRIBUTE_TYPE(CKA_PRIVATE), true)
        template.add(CK_ATTRIBUTE_TYPE(CKA_SENSITIVE), true)
        template.add(CK_ATTRIBUTE_TYPE(CKA_EXTRACTABLE), false)
        template.add(CK_ATTRIBUTE_TYPE(CKA_ENCRYPT), true)
        template.add(CK_ATTRIBUTE_TYPE(CKA_DECRYPT), true)
        // Nothing else: wrapping another key out of the token, signing or deriving would each be a way around the
        // two calls this provider makes.
        template.add(CK_ATTRIBUTE_TYPE(CKA_WRAP), false)
        template.add(CK_ATTRIBUTE_TYPE(CKA_UNWRAP), false)
        template.add(CK_ATTRIBUTE_TYPE(CKA_SIGN), false)
        template.add(CK_ATTRIBUTE_TYPE(CKA_VERIFY), false)
        template.add(CK_ATTRIBUTE_TYPE(CKA_DERIVE), false)
        return template
    }

    // MARK: MasterKeyProvider

    /// Encrypts `key` on the token; the result is `"KBSH" | 0x01 | IV | ciphertext | tag`.
    ///
    /// IVs are 96 random bits each, so one master key should wrap fewer than 2³² keys (NIST SP 800-38D); it wraps
    /// only key-encryption key versions.
    package func wrap(_ key: borrowing SecretBytes, context: [UInt8]) throws(KeyError) -> [UInt8] {
        guard key.count > 0 else { throw KeyError(.invalidArgument, "there is no key to wrap") }
        var iv = [UInt8](repeating: 0, count: PKCS11WrappedKey.ivCount)
        var generator = SystemRandomNumberGenerator()
        for index in iv.indices { iv[index] = generator.next() }
        let sealed = try key.withUnsafeBytes { (bytes) throws(KeyError) in
            try session.sealAESGCM(bytes, key: self.key, iv: iv, aad: context)
        }
        return PKCS11WrappedKey(iv: iv, sealed: sealed).bytes
    }

    /// Decrypts what `wrap` returned for the same `context` on the token; a changed byte, another `context` or
    /// another master key fail with `integrity`, bytes not in the format with `malformed`.
    package func unwrap(_ wrapped: [UInt8], context: [UInt8]) throws(KeyError) -> SecretBytes {
        let parsed = try PKCS11WrappedKey(parsing: wrapped)
        return try session.openAESGCM(parsed.sealed, key: key, iv: parsed.iv, aad: context)
    }

    // MARK: Inspecting

    /// The value of attribute `type` of the master key object as the token reports it; `CKA_VALUE` is refused
    /// (`sealed`, `CKR_ATTRIBUTE_SENSITIVE`). For tests and diagnostics.
    func keyAttribute(_ type: CK_ATTRIBUTE_TYPE) throws(KeyError) -> [UInt8] {
        try session.attribute(type, of: key)
    }
}
