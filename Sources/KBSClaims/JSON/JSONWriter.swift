/// Writes compact JSON into bytes without Foundation: members in the order written, strings with the minimal escapes
/// (``JCS/appendString(_:to:)``), integers only, and `raw` for JSON already made (a verified claims object, say).
///
/// The writer places the commas; the caller keeps the shape well formed (a key before each member value).
package struct JSONWriter: Sendable {
    /// The JSON so far.
    package private(set) var bytes: [UInt8] = []
    /// For each open container, whether it already holds an element.
    private var filled: [Bool] = []
    /// A key was just written, so the next value belongs to it and takes no comma.
    private var afterKey = false

    /// An empty writer.
    package init() {}

    /// The JSON so far, as text.
    package var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Writes `{`, then `body`, then `}`.
    package mutating func object(_ body: (inout JSONWriter) -> Void) {
        open(UInt8(ascii: "{"))
        body(&self)
        close(UInt8(ascii: "}"))
    }

    /// Writes `[`, then `body`, then `]`.
    package mutating func array(_ body: (inout JSONWriter) -> Void) {
        open(UInt8(ascii: "["))
        body(&self)
        close(UInt8(ascii: "]"))
    }

    /// Writes a member name; the next value written is its value.
    package mutating func key(_ name: String) {
        separate()
        JCS.appendString(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    package mutating func string(_ value: String) {
        separate()
        JCS.appendString(value, to: &bytes)
    }

    package mutating func int(_ value: some BinaryInteger) {
        separate()
        bytes += Array(String(value).utf8)
    }

    package mutating func bool(_ value: Bool) {
        separate()
        bytes += Array((value ? "true" : "false").utf8)
    }

    package mutating func null() {
        separate()
        bytes += Array("null".utf8)
    }

    /// Writes `json` as it is: the caller vouches that it is one well-formed JSON value.
    package mutating func raw(_ json: some Sequence<UInt8>) {
        separate()
        bytes += json
    }

    /// `key` and a string value.
    package mutating func member(_ name: String, _ value: String) {
        key(name)
        string(value)
    }

    /// `key` and an integer value.
    package mutating func member(_ name: String, _ value: some BinaryInteger) {
        key(name)
        int(value)
    }

    private mutating func open(_ byte: UInt8) {
        separate()
        bytes.append(byte)
        filled.append(false)
    }

    private mutating func close(_ byte: UInt8) {
        bytes.append(byte)
        filled.removeLast()
        afterKey = false
    }

    /// A comma before every element but a container's first, and none between a key and its value.
    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        guard let last = filled.indices.last else { return }
        if filled[last] { bytes.append(UInt8(ascii: ",")) }
        filled[last] = true
    }
}
