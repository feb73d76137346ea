import Foundation
import KBSPolicyTesting

@testable import KBSClaims
@testable import KBSPolicy

typealias Repository = RepositoryPaths

/// Compiles one policy text (plus data files) as a bundle in a temporary folder.
func compile(_ text: String, data: [String: String] = [:], entities: String? = nil) -> Result<PolicySet, BundleError> {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-test-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try! text.write(toFile: directory + "/main.policy", atomically: true, encoding: .utf8)
    for (name, json) in data { try! json.write(toFile: directory + "/\(name).json", atomically: true, encoding: .utf8) }
    if let entities { try! entities.write(toFile: directory + "/entities.json", atomically: true, encoding: .utf8) }
    return PolicySet.load(directory: directory)
}

func mustCompile(_ text: String, data: [String: String] = [:], entities: String? = nil) throws -> PolicySet {
    switch compile(text, data: data, entities: entities) {
    case .success(let set): return set
    case .failure(let error): throw error
    }
}

extension PolicySet {
    func decide(_ json: String, now: Int64 = 0) -> Decision {
        decide(json: Array(json.utf8), options: .init(now: now))
    }

    func fast(_ json: String) -> Bool {
        Array(json.utf8).withUnsafeBufferPointer { isPermitted(json: $0) }
    }
}
