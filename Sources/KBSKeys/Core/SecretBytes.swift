import Glibc

/// Plaintext key material in memory that is never copied implicitly and is wiped when it goes away.
///
/// The bytes live in one heap allocation that this noncopyable value owns: Swift cannot copy it behind our back the
/// way it copies an array's buffer on write, and `deinit` overwrites it with `explicit_bzero` (which the optimizer
/// may not drop) before freeing it. Code reads the bytes only inside `withUnsafeBytes`.
///
/// - Warning: the guarantee stops at this allocation. Bytes a closure copies out (into an `Array`, a `Data`, a
///   `SymmetricKey`) are that copy's business; registers and the stack are not scrubbed; swapped-out pages are not
///   covered (no `mlock`).
package struct SecretBytes: ~Copyable, @unchecked Sendable {
    // Owned uniquely by this value (it is noncopyable), so sending it to another task is safe.
    private let storage: UnsafeMutableRawBufferPointer

    /// Creates `count` zero bytes.
    package init(zeros count: Int) {
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 0), alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
    }

    /// Creates a copy of `bytes`; wiping the source is the caller's business.
    package init(copying bytes: UnsafeRawBufferPointer) {
        self.init(zeros: bytes.count)
        if bytes.count > 0 { storage.copyMemory(from: bytes) }
    }

    /// Creates a copy of `bytes`; wiping the array is the caller's business.
    package init(copying bytes: [UInt8]) {
        self.init(zeros: bytes.count)
        for index in bytes.indices { storage[index] = bytes[index] }
    }

    /// Creates `count` bytes from the system's cryptographically secure generator (`getrandom` on Linux).
    package static func random(count: Int) -> SecretBytes {
        let secret = SecretBytes(zeros: count)
        let storage = secret.storage
        var generator = SystemRandomNumberGenerator()
        for index in 0..<count {
            storage[index] = generator.next()
        }
        return secret
    }

    deinit {
        KBSKeys.wipe(storage)
        storage.deallocate()
    }

    /// The number of bytes.
    package var count: Int { storage.count }

    /// Calls `body` with the bytes; the pointer is valid only during the call and must not escape it.
    package func withUnsafeBytes<Result: ~Copyable, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(UnsafeRawBufferPointer(storage))
    }

    /// Calls `body` with the bytes, writable; the pointer is valid only during the call and must not escape it.
    package mutating func withUnsafeMutableBytes<Result: ~Copyable, Failure: Error>(
        _ body: (UnsafeMutableRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(storage)
    }
}

/// Overwrites `bytes` with zeros in a way the optimizer cannot remove as a dead store.
///
/// glibc's `explicit_bzero` exists for exactly this; a plain loop or `memset` before a free may be elided.
func wipe(_ bytes: UnsafeMutableRawBufferPointer) {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return }
    explicit_bzero(base, bytes.count)
}

/// Overwrites an array's current buffer with zeros (its earlier copies, if the runtime made any, are out of reach).
func wipe(_ array: inout [UInt8]) {
    array.withUnsafeMutableBytes { wipe($0) }
}

extension SecretBytes {
    /// Overwrites plaintext a caller had to hold in an array (a request body, a decrypted value) with zeros that the
    /// optimizer cannot drop; earlier copies of the array, if the runtime made any, are out of reach.
    package static func wipe(_ array: inout [UInt8]) {
        KBSKeys.wipe(&array)
    }
}
