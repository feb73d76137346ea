import CPKCS11

/// A PKCS#11 attribute template (`CK_ATTRIBUTE` array) built from Swift values.
///
/// Templates here carry only public attributes (class, type, flags, labels), never key material, so the values are
/// plain arrays.
struct PKCS11Template {
    private var entries: [(type: CK_ATTRIBUTE_TYPE, value: [UInt8])] = []

    init() {}

    mutating func add(_ type: CK_ATTRIBUTE_TYPE, _ value: Bool) {
        entries.append((type, [value ? CK_BBOOL(CK_TRUE) : CK_BBOOL(CK_FALSE)]))
    }

    mutating func add(_ type: CK_ATTRIBUTE_TYPE, _ value: CK_ULONG) {
        entries.append((type, withUnsafeBytes(of: value) { Array($0) }))
    }

    mutating func add(_ type: CK_ATTRIBUTE_TYPE, _ value: String) {
        entries.append((type, Array(value.utf8)))
    }

    /// Calls `body` with the attributes; the pointers are valid only during the call.
    func withAttributes<Result>(_ body: (UnsafeMutablePointer<CK_ATTRIBUTE>, CK_ULONG) -> Result) -> Result {
        // One allocation for all values, so every pAttribute stays valid for the whole call.
        let total = entries.reduce(0) { $0 + $1.value.count }
        let values = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 16)
        let attributes = UnsafeMutablePointer<CK_ATTRIBUTE>.allocate(capacity: max(entries.count, 1))
        defer {
            values.deallocate()
            attributes.deallocate()
        }
        var offset = 0
        for (index, entry) in entries.enumerated() {
            let slice = UnsafeMutableRawBufferPointer(rebasing: values[offset..<offset + entry.value.count])
            slice.copyBytes(from: entry.value)
            (attributes + index).initialize(
                to: CK_ATTRIBUTE(
                    type: entry.type, pValue: entry.value.isEmpty ? nil : slice.baseAddress,
                    ulValueLen: CK_ULONG(entry.value.count)))
            offset += entry.value.count
        }
        return body(attributes, CK_ULONG(entries.count))
    }
}
