import CPKCS11
import Crypto
import Glibc
import KBSClaims
import Synchronization

/// A PKCS#11 module (SoftHSM2 or an HSM vendor's library), loaded with `dlopen` and initialized once per process.
///
/// PKCS#11 sessions are not thread-safe, and a module's login state is shared by all of a process's sessions on a
/// token, so every call into the module goes through one lock: `serialized` hands out the function list together with
/// the per-slot login bookkeeping it protects. Modules are never unloaded nor finalized: another part of the process
/// may still use them, and `C_Finalize` would close every session of every provider at once.
final class PKCS11Module: @unchecked Sendable {
    // @unchecked: the function list is immutable after C_GetFunctionList and is only called through while holding
    // `state`'s lock; the library is never dlclosed, so the pointer stays valid for the life of the process.

    /// The login bookkeeping for one slot, guarded by the module lock.
    struct SlotLogin {
        /// Sessions this process opened on the slot through providers; the token logs out when the last one closes.
        var sessions = 0
        /// An HMAC of the PIN that logged in, to check later logins that the token answers with
        /// `CKR_USER_ALREADY_LOGGED_IN` without looking at their PIN.
        var pin: HashedAuthenticationCode<SHA256>?
    }

    /// What the lock guards.
    struct State {
        var slots: [CK_SLOT_ID: SlotLogin] = [:]
    }

    let path: String
    private let functions: UnsafeMutablePointer<CK_FUNCTION_LIST>
    private let state = Mutex(State())
    /// Keys the PIN HMACs: random per process, so a digest is useless outside it.
    private let pinKey = SymmetricKey(size: .bits256)

    private init(path: String, functions: UnsafeMutablePointer<CK_FUNCTION_LIST>) {
        self.path = path
        self.functions = functions
    }

    // MARK: Loading

    /// The modules loaded so far, by `dlopen` handle (one per library however it was named).
    private static let loaded = Mutex<[UInt: PKCS11Module]>([:])

    /// The module at `path`, loaded and initialized on first use; later calls for the same library share it, whatever
    /// path (a symbolic link, the real file) names it, since the login state they share is the library's.
    ///
    /// A library that cannot be loaded, lacks `C_GetFunctionList` or fails `C_Initialize` is `sealed`: the master
    /// key is out of reach.
    static func load(_ path: String) throws(KeyError) -> PKCS11Module {
        try loaded.withLock { (modules) throws(KeyError) -> PKCS11Module in
            guard let library = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
                let reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
                throw KeyError(.sealed, "cannot load the PKCS#11 module \(path): \(reason)")
            }
            if let module = modules[UInt(bitPattern: library)] {
                // Loaded before: give back the reference this dlopen added; the module keeps its own.
                dlclose(library)
                return module
            }
            var keep = false
            defer { if !keep { dlclose(library) } }
            guard let symbol = dlsym(library, "C_GetFunctionList") else {
                throw KeyError(.sealed, "\(path) is not a PKCS#11 module (no C_GetFunctionList)")
            }
            let getFunctionList = unsafeBitCast(symbol, to: CK_C_GetFunctionList.self)
            var list: UnsafeMutablePointer<CK_FUNCTION_LIST>?
            let listed = getFunctionList(&list)
            guard listed == CKR_OK, let list else {
                throw KeyError(.sealed, "C_GetFunctionList of \(path) failed: \(PKCS11ReturnCode.name(listed))")
            }
            // Checked once here, so that calls through the list may unwrap these pointers.
            let functions = list.pointee
            let present: [(String, Bool)] = [
                ("C_Initialize", functions.C_Initialize != nil), ("C_GetSlotList", functions.C_GetSlotList != nil),
                ("C_GetTokenInfo", functions.C_GetTokenInfo != nil), ("C_OpenSession", functions.C_OpenSession != nil),
                ("C_CloseSession", functions.C_CloseSession != nil), ("C_Login", functions.C_Login != nil),
                ("C_FindObjectsInit", functions.C_FindObjectsInit != nil), ("C_FindObjects", functions.C_FindObjects != nil),
                ("C_FindObjectsFinal", functions.C_FindObjectsFinal != nil), ("C_GenerateKey", functions.C_GenerateKey != nil),
                ("C_GetAttributeValue", functions.C_GetAttributeValue != nil), ("C_EncryptInit", functions.C_EncryptInit != nil),
                ("C_Encrypt", functions.C_Encrypt != nil), ("C_DecryptInit", functions.C_DecryptInit != nil),
                ("C_Decrypt", functions.C_Decrypt != nil),
            ]
            if let (name, _) = present.first(where: { !$0.1 }) {
                throw KeyError(.sealed, "the PKCS#11 module \(path) does not provide \(name)")
            }
            // The module may be called from any thread (under our lock), so let it use the OS's locking primitives.
            var arguments = CK_C_INITIALIZE_ARGS(
                CreateMutex: nil, DestroyMutex: nil, LockMutex: nil, UnlockMutex: nil, flags: CK_FLAGS(CKF_OS_LOCKING_OK),
                pReserved: nil)
            let initialized = functions.C_Initialize!(&arguments)
            // Already initialized means another part of this process got there first; the module is usable.
            guard initialized == CKR_OK || initialized == CKR_CRYPTOKI_ALREADY_INITIALIZED else {
                throw KeyError(.sealed, "C_Initialize of \(path) failed: \(PKCS11ReturnCode.name(initialized))")
            }
            let module = PKCS11Module(path: path, functions: list)
            modules[UInt(bitPattern: library)] = module
            keep = true
            return module
        }
    }

    // MARK: Calling

    /// Runs `body` with exclusive use of the module and its login bookkeeping.
    func serialized<Result: ~Copyable>(
        _ body: (borrowing Calls, inout State) throws(KeyError) -> Result
    ) throws(KeyError) -> Result {
        let calls = Calls(functions: functions.pointee, path: path)
        return try state.withLock { (state) throws(KeyError) -> Result in try body(calls, &state) }
    }

    /// The sessions providers hold open on this module, over all slots (for tests and diagnostics).
    var sessionCount: Int {
        state.withLock { state in state.slots.values.reduce(0) { $0 + $1.sessions } }
    }

    /// The HMAC of `pin` under this process's key.
    func digest(pin: [UInt8]) -> HashedAuthenticationCode<SHA256> {
        HMAC<SHA256>.authenticationCode(for: pin, using: pinKey)
    }

    /// Whether `pin` is the one `code` was computed from (a constant-time comparison).
    func matches(pin: [UInt8], _ code: HashedAuthenticationCode<SHA256>) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: pin, using: pinKey)
    }

    /// The module's functions, valid only inside `serialized`.
    struct Calls: ~Copyable {
        let functions: CK_FUNCTION_LIST
        let path: String

        /// Throws unless `code` is `CKR_OK`, with `function`'s name and the code's name in the message.
        func check(_ code: CK_RV, _ function: String) throws(KeyError) {
            guard code != CKR_OK else { return }
            throw KeyError(pkcs11: code, function)
        }
    }
}

extension KeyError {
    /// The error for a PKCS#11 call that returned `code`.
    ///
    /// A PIN the token rejects is `wrongPassphrase` (the PIN is the token's passphrase); every other failure of the
    /// module or token (no token, PIN locked, device error, a key the token refuses to use) is `sealed`, since the
    /// master key is out of reach. Callers that expect a specific code (a failed tag on `C_Decrypt`) map it first.
    init(pkcs11 code: CK_RV, _ function: String) {
        let name = PKCS11ReturnCode.name(code)
        switch code {
        case CKR_PIN_INCORRECT, CKR_PIN_INVALID, CKR_PIN_LEN_RANGE:
            self.init(.wrongPassphrase, "\(function): \(name): the token rejected the user PIN")
        default:
            self.init(.sealed, "\(function): \(name)")
        }
    }
}
