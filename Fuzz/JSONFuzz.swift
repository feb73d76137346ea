// libFuzzer entry for the JSON tree parser and the typed decoder behind `PolicySet.decide`.
//
// Not a SwiftPM target: Tools/fuzz compiles this file together with the KBSPolicy sources into one module.
// The typed decoder is driven through a real compiled bundle (`KBS_FUZZ_BUNDLE`, default `Policies/default`),
// loaded once. Invariants: nothing traps, and the fast path agrees with the explaining path.
import Foundation
import KBSClaims

private let fuzzBundle: PolicySet? = {
    let directory = ProcessInfo.processInfo.environment["KBS_FUZZ_BUNDLE"] ?? "Policies/default"
    switch PolicySet.load(directory: directory) {
    case .success(let set): return set
    case .failure(let error):
        FileHandle.standardError.write(Data("fuzz-json: cannot load bundle \(directory), typed decoder not fuzzed:\n\(error)\n".utf8))
        return nil
    }
}()

/// Loads the bundle before fuzzing starts, so its one-time allocations are not charged to the first input by
/// libFuzzer's leak check (LSan cannot see Swift's spare-bit-tagged enum payload pointers and calls them leaks).
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    _ = fuzzBundle
    return 0
}

private let fieldPaths = [["subject"], ["subject", "id"], ["action", "name"], ["resource"], ["resource", "properties", "ownerID"]]
private let fieldReader = JSONFieldReader(paths: fieldPaths)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buffer = UnsafeBufferPointer(start: data, count: size)
    let bytes = Array(buffer)
    let fields = try? fieldReader.read(bytes)
    if let node = try? JSONNode.parse(bytes) {
        _ = node.kindName
        _ = node["subject"]?.stringValue
        // The one-pass field reader agrees with the tree on every document the tree accepts as an object.
        if case .object = node.value {
            guard let fields else { preconditionFailure("JSONFieldReader refused an object the tree accepts") }
            for (path, field) in zip(fieldPaths, fields) {
                var current: JSONNode? = node
                for name in path { current = current?[name] }
                precondition(field?.range == current?.range, "JSONFieldReader found \(String(describing: field)) at \(path)")
            }
        } else {
            precondition(fields == nil, "JSONFieldReader accepted a non-object")
        }
    }
    if let set = fuzzBundle {
        let options = PolicySet.Options(now: 1_750_000_000)
        let decision = set.decide(json: bytes, options: options)
        let fast = set.isPermitted(json: buffer, options: options)
        precondition(fast == (decision.effect == .permit), "isPermitted (\(fast)) disagrees with decide (\(decision.effect))")
    }
    return 0
}
