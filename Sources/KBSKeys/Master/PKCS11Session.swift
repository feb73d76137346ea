import CPKCS11
import KBSClaims

/// A logged-in PKCS#11 session on one token, closed when the last reference goes away.
///
/// Every call goes through the module's lock (`PKCS11Module.serialized`), so one session may be shared by concurrent
/// tasks; an operation's init and its single-part call run under one hold of the lock and cannot interleave.
final class PKCS11Session: Sendable {
    let module: PKCS11Module
    let tokenLabel: String
    private let slot: CK_SLOT_ID
    private let handle: CK_SESSION_HANDLE

    /// Opens a session on the token labelled `tokenLabel` and logs in as its user with `pin`.
    ///
    /// No token with that label is `sealed`; a PIN the token rejects is `wrongPassphrase`. If this process is already
    /// logged in to the token (the login state of PKCS#11 is shared by all of a process's sessions, and the token
    /// answers `CKR_USER_ALREADY_LOGGED_IN` without checking the PIN), `pin` is checked against the one that logged
    /// in, so a wrong PIN is refused all the same.
    init(module: PKCS11Module, tokenLabel: String, pin: [UInt8], readWrite: Bool) throws(KeyError) {
        guard !pin.isEmpty else { throw KeyError(.invalidArgument, "the user PIN is empty") }
        (slot, handle) = try module.serialized { (calls, state) throws(KeyError) -> (CK_SLOT_ID, CK_SESSION_HANDLE) in
            let slot = try calls.slot(labelled: tokenLabel)
            var flags = CK_FLAGS(CKF_SERIAL_SESSION)
            if readWrite { flags |= CK_FLAGS(CKF_RW_SESSION) }
            var handle = CK_SESSION_HANDLE(CK_INVALID_HANDLE)
            try calls.check(calls.functions.C_OpenSession!(slot, flags, nil, nil, &handle), "C_OpenSession")
            state.slots[slot, default: PKCS11Module.SlotLogin()].sessions += 1
            do throws(KeyError) {
                let code = pin.withUnsafeBufferPointer { pin in
                    calls.functions.C_Login!(handle, CK_USER_TYPE(CKU_USER), UnsafeMutablePointer(mutating: pin.baseAddress), CK_ULONG(pin.count))
                }
                switch code {
                case CKR_OK:
                    state.slots[slot]?.pin = module.digest(pin: pin)
                case CKR_USER_ALREADY_LOGGED_IN:
                    guard let loggedIn = state.slots[slot]?.pin else {
                        throw KeyError(.sealed, "C_Login: token \(tokenLabel) is logged in by another part of this process; cannot check the PIN")
                    }
                    guard module.matches(pin: pin, loggedIn) else {
                        throw KeyError(.wrongPassphrase, "C_Login: the user PIN is not the one this process logged in to token \(tokenLabel) with")
                    }
                default:
                    throw KeyError(pkcs11: code, "C_Login")
                }
            } catch {
                Self.close(handle, slot: slot, calls: calls, state: &state)
                throw error
            }
            return (slot, handle)
        }
        self.module = module
        self.tokenLabel = tokenLabel
    }

    deinit {
        try? module.serialized { (calls, state) throws(KeyError) in
            Self.close(handle, slot: slot, calls: calls, state: &state)
        }
    }

    private static func close(
        _ handle: CK_SESSION_HANDLE,
        slot: CK_SLOT_ID,
        calls: borrowing PKCS11Module.Calls,
        state: inout PKCS11Module.State
    ) {
        _ = calls.functions.C_CloseSession!(handle)
        state.slots[slot]?.sessions -= 1
        // The token logs the process out when its last session closes, so the recorded PIN no longer applies.
        if state.slots[slot]?.sessions ?? 0 <= 0 { state.slots[slot] = nil }
    }

    // MARK: Objects

    /// The handles of the token objects that match `template`.
    func find(_ template: PKCS11Template) throws(KeyError) -> [CK_OBJECT_HANDLE] {
        try module.serialized { (calls, _) throws(KeyError) -> [CK_OBJECT_HANDLE] in
            let started = template.withAttributes { calls.functions.C_FindObjectsInit!(handle, $0, $1) }
            try calls.check(started, "C_FindObjectsInit")
            defer { _ = calls.functions.C_FindObjectsFinal!(handle) }
            var found: [CK_OBJECT_HANDLE] = []
            var batch = [CK_OBJECT_HANDLE](repeating: CK_OBJECT_HANDLE(CK_INVALID_HANDLE), count: 8)
            while true {
                var count: CK_ULONG = 0
                let code = batch.withUnsafeMutableBufferPointer {
                    calls.functions.C_FindObjects!(handle, $0.baseAddress, CK_ULONG($0.count), &count)
                }
                try calls.check(code, "C_FindObjects")
                if count == 0 { return found }
                found += batch.prefix(Int(count))
            }
        }
    }

    /// Generates a key on the token with `template` and `mechanism` (one without parameters, such as key generation).
    func generateKey(_ mechanism: CK_MECHANISM_TYPE, _ template: PKCS11Template) throws(KeyError) -> CK_OBJECT_HANDLE {
        try module.serialized { (calls, _) throws(KeyError) -> CK_OBJECT_HANDLE in
            var key = CK_OBJECT_HANDLE(CK_INVALID_HANDLE)
            var generation = CK_MECHANISM(mechanism: mechanism, pParameter: nil, ulParameterLen: 0)
            let code = template.withAttributes { calls.functions.C_GenerateKey!(handle, &generation, $0, $1, &key) }
            try calls.check(code, "C_GenerateKey")
            return key
        }
    }

    /// The value of attribute `type` of `object`, as the token returns it.
    ///
    /// The token refuses the value of a sensitive or unextractable key (`CKR_ATTRIBUTE_SENSITIVE`, thrown as
    /// `sealed`): that refusal is what keeps the master key inside it.
    func attribute(_ type: CK_ATTRIBUTE_TYPE, of object: CK_OBJECT_HANDLE) throws(KeyError) -> [UInt8] {
        try module.serialized { (calls, _) throws(KeyError) -> [UInt8] in
            var query = CK_ATTRIBUTE(type: type, pValue: nil, ulValueLen: 0)
            try calls.check(calls.functions.C_GetAttributeValue!(handle, object, &query, 1), "C_GetAttributeValue")
            var value = [UInt8](repeating: 0, count: Int(query.ulValueLen))
            let code = value.withUnsafeMutableBytes { buffer in
                query.pValue = buffer.baseAddress
                return calls.functions.C_GetAttributeValue!(handle, object, &query, 1)
            }
            try calls.check(code, "C_GetAttributeValue")
            return Array(value.prefix(Int(query.ulValueLen)))
        }
    }

    // MARK: AES-GCM

    /// Encrypts `plaintext` with the AES key `key` in GCM mode under `iv` (12 bytes), authenticating `aad`; returns
    /// the ciphertext followed by the 16-byte tag.
    func sealAESGCM(
        _ plaintext: UnsafeRawBufferPointer,
        key: CK_OBJECT_HANDLE,
        iv: [UInt8],
        aad: [UInt8]
    ) throws(KeyError) -> [UInt8] {
        try module.serialized { (calls, _) throws(KeyError) -> [UInt8] in
            let started = Self.withGCM(iv: iv, aad: aad) { calls.functions.C_EncryptInit!(handle, $0, key) }
            try calls.check(started, "C_EncryptInit")
            var sealed = [UInt8](repeating: 0, count: plaintext.count + Self.tagCount)
            var length = CK_ULONG(sealed.count)
            let input = UnsafeMutablePointer(mutating: plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self))
            let code = sealed.withUnsafeMutableBufferPointer {
                calls.functions.C_Encrypt!(handle, input, CK_ULONG(plaintext.count), $0.baseAddress, &length)
            }
            try calls.check(code, "C_Encrypt")
            guard length == CK_ULONG(sealed.count) else {
                throw KeyError(.sealed, "C_Encrypt returned \(length) bytes, expected \(sealed.count)")
            }
            return sealed
        }
    }

    /// Decrypts what `sealAESGCM` returned; a tag that does not verify (altered bytes, IV or `aad`, or another key) is
    /// `integrity`.
    func openAESGCM(_ sealed: [UInt8], key: CK_OBJECT_HANDLE, iv: [UInt8], aad: [UInt8]) throws(KeyError) -> SecretBytes {
        guard sealed.count >= Self.tagCount else { throw KeyError(.malformed, "the sealed bytes are shorter than a tag") }
        return try module.serialized { (calls, _) throws(KeyError) -> SecretBytes in
            let started = Self.withGCM(iv: iv, aad: aad) { calls.functions.C_DecryptInit!(handle, $0, key) }
            try calls.check(started, "C_DecryptInit")
            // Room for the whole input: some modules (SoftHSM among them) ask for that much before they look at the
            // tag. The scratch buffer is wiped when it goes away, like the result.
            var scratch = SecretBytes(zeros: sealed.count)
            var length = CK_ULONG(sealed.count)
            let code = scratch.withUnsafeMutableBytes { output in
                sealed.withUnsafeBufferPointer {
                    calls.functions.C_Decrypt!(
                        handle, UnsafeMutablePointer(mutating: $0.baseAddress), CK_ULONG($0.count),
                        output.baseAddress?.assumingMemoryBound(to: UInt8.self), &length)
                }
            }
            switch code {
            case CKR_OK:
                break
            // The codes a module gives for a tag that does not verify: the standard ones, and the generic ones that
            // SoftHSM2 (CKR_GENERAL_ERROR) and others use. The session and the key passed C_DecryptInit just now.
            case CKR_ENCRYPTED_DATA_INVALID, CKR_ENCRYPTED_DATA_LEN_RANGE, CKR_GENERAL_ERROR, CKR_FUNCTION_FAILED:
                throw KeyError(.integrity, "C_Decrypt: \(PKCS11ReturnCode.name(code)): the wrapped key does not authenticate")
            default:
                throw KeyError(pkcs11: code, "C_Decrypt")
            }
            let plaintextCount = sealed.count - Self.tagCount
            guard length == CK_ULONG(plaintextCount) else {
                throw KeyError(.sealed, "C_Decrypt returned \(length) bytes, expected \(plaintextCount)")
            }
            return scratch.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0.prefix(plaintextCount))) }
        }
    }

    static let tagCount = 16

    /// Calls `body` with a `CKM_AES_GCM` mechanism for `iv` and `aad` and a 128-bit tag.
    private static func withGCM(
        iv: [UInt8],
        aad: [UInt8],
        _ body: (UnsafeMutablePointer<CK_MECHANISM>) -> CK_RV
    ) -> CK_RV {
        var iv = iv
        var aad = aad
        return iv.withUnsafeMutableBufferPointer { iv in
            aad.withUnsafeMutableBufferPointer { aad in
                var parameters = CK_GCM_PARAMS(
                    pIv: iv.baseAddress, ulIvLen: CK_ULONG(iv.count), ulIvBits: CK_ULONG(iv.count * 8),
                    pAAD: aad.count > 0 ? aad.baseAddress : nil, ulAADLen: CK_ULONG(aad.count),
                    ulTagBits: CK_ULONG(tagCount * 8))
                return withUnsafeMutablePointer(to: &parameters) { parameters in
                    var mechanism = CK_MECHANISM(
                        mechanism: CK_MECHANISM_TYPE(CKM_AES_GCM), pParameter: UnsafeMutableRawPointer(parameters),
                        ulParameterLen: CK_ULONG(MemoryLayout<CK_GCM_PARAMS>.size))
                    return body(&mechanism)
                }
            }
        }
    }
}

extension PKCS11Module.Calls {
    /// The slot whose token is labelled `label` (PKCS#11 pads labels with spaces to 32 bytes).
    func slot(labelled label: String) throws(KeyError) -> CK_SLOT_ID {
        var count: CK_ULONG = 0
        try check(functions.C_GetSlotList!(CK_BBOOL(CK_TRUE), nil, &count), "C_GetSlotList")
        var slots = [CK_SLOT_ID](repeating: 0, count: Int(count))
        let listed = slots.withUnsafeMutableBufferPointer { functions.C_GetSlotList!(CK_BBOOL(CK_TRUE), $0.baseAddress, &count) }
        try check(listed, "C_GetSlotList")
        var matching: [CK_SLOT_ID] = []
        for slot in slots.prefix(Int(count)) {
            var info = CK_TOKEN_INFO()
            try check(functions.C_GetTokenInfo!(slot, &info), "C_GetTokenInfo")
            let padded = withUnsafeBytes(of: info.label) { String(decoding: $0, as: UTF8.self) }
            var name = Substring(padded)
            while name.last == " " { name.removeLast() }
            if name == label { matching.append(slot) }
        }
        guard let slot = matching.first else {
            throw KeyError(.sealed, "no token labelled \(label) in \(path)")
        }
        guard matching.count == 1 else {
            throw KeyError(.invalidState, "\(matching.count) tokens are labelled \(label) in \(path)")
        }
        return slot
    }
}
