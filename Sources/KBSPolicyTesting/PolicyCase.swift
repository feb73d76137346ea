import Foundation
import KBSClaims
package import KBSPolicy

/// A file of fixture cases for one bundle: requests with the decision each must get.
///
/// ```json
/// { "description": "…", "now": "2026-01-01T00:00:00Z",
///   "cases": [ { "name": "…", "input": { … }, "expect": "permit", "rules": ["release"] } ] }
/// ```
/// Unknown keys are an error, so a misspelt expectation never passes silently.
package struct PolicyCaseFile: Sendable {
    /// One case.
    package struct Case: Sendable {
        package var name: String
        /// The input object's exact bytes, decoded by the bundle's schema like any request.
        package var inputJSON: [UInt8]
        package var expect: Decision.Effect
        /// When given, exactly the rules that must decide.
        package var rules: [String]?
        /// When given, obligations that must be present with these JSON values.
        package var obligations: [String: String]?
        /// When true, the decision must carry an evaluation error (and so deny).
        package var expectError: Bool
        /// The request's time, overriding the file's.
        package var now: Int64?
    }

    package var path: String
    package var description: String?
    package var cases: [Case]

    /// Reads and validates a case file.
    package static func load(path: String) throws(CaseFileError) -> PolicyCaseFile {
        guard let data = FileManager.default.contents(atPath: path) else { throw CaseFileError(path: path, message: "cannot read the file") }
        let bytes = [UInt8](data)
        let root: JSONNode
        do {
            root = try JSONNode.parse(bytes)
        } catch {
            throw CaseFileError(path: path, offset: error.offset, bytes: bytes, message: error.message)
        }
        func fail(_ node: JSONNode, _ message: String) -> CaseFileError {
            CaseFileError(path: path, offset: node.range.lowerBound, bytes: bytes, message: message)
        }
        guard case .object(let members) = root.value else { throw fail(root, "a case file is a JSON object") }
        for member in members where !["description", "now", "cases"].contains(member.key) {
            throw fail(member.value, "unknown key `\(member.key)`; a case file has description, now and cases")
        }
        let fileNow = try root["now"].map { (node) throws(CaseFileError) -> Int64 in
            guard let text = node.stringValue, let nanos = Timestamp.nanoseconds(fromRFC3339: text) else {
                throw fail(node, "`now` must be an RFC 3339 time")
            }
            return nanos
        }
        guard let casesNode = root["cases"], case .array(let items) = casesNode.value, !items.isEmpty else {
            throw fail(root, "`cases` must be a non-empty array")
        }
        var cases: [Case] = []
        var names = Set<String>()
        for item in items {
            guard case .object(let fields) = item.value else { throw fail(item, "a case is a JSON object") }
            for field in fields where !["name", "input", "expect", "rules", "obligations", "error", "now"].contains(field.key) {
                throw fail(field.value, "unknown key `\(field.key)`; a case has name, input, expect, rules, obligations, error and now")
            }
            guard let name = item["name"]?.stringValue, !name.isEmpty else { throw fail(item, "a case needs a `name`") }
            guard names.insert(name).inserted else { throw fail(item, "two cases are named `\(name)`") }
            guard let input = item["input"] else { throw fail(item, "case `\(name)` needs an `input`") }
            guard let expectText = item["expect"]?.stringValue, let expect = Decision.Effect(rawValue: expectText) else {
                throw fail(item, "case `\(name)` needs `expect`: \"permit\" or \"deny\"")
            }
            var rules: [String]?
            if let node = item["rules"] {
                guard case .array(let list) = node.value else { throw fail(node, "`rules` is an array of rule names") }
                rules = try list.map { (rule) throws(CaseFileError) -> String in
                    guard let text = rule.stringValue else { throw fail(rule, "`rules` is an array of rule names") }
                    return text
                }
            }
            var obligations: [String: String]?
            if let node = item["obligations"] {
                guard case .object(let entries) = node.value else { throw fail(node, "`obligations` is an object") }
                obligations = Dictionary(uniqueKeysWithValues: entries.map { ($0.key, canonicalJSON(bytes, $0.value)) })
            }
            var expectError = false
            if let node = item["error"] {
                guard case .bool(let flag) = node.value else { throw fail(node, "`error` is true or false") }
                expectError = flag
            }
            var now = fileNow
            if let node = item["now"] {
                guard let text = node.stringValue, let nanos = Timestamp.nanoseconds(fromRFC3339: text) else {
                    throw fail(node, "`now` must be an RFC 3339 time")
                }
                now = nanos
            }
            cases.append(
                Case(
                    name: name, inputJSON: Array(bytes[input.range]), expect: expect, rules: rules,
                    obligations: obligations, expectError: expectError, now: now))
        }
        return PolicyCaseFile(path: path, description: root["description"]?.stringValue, cases: cases)
    }

    private static func canonicalJSON(_ bytes: [UInt8], _ node: JSONNode) -> String {
        if case .string(let text) = node.value { return JSONText.quote(text) }
        return String(decoding: bytes[node.range], as: UTF8.self)
    }
}

/// A case file that cannot be used, with where the problem is.
package struct CaseFileError: Error, Sendable, CustomStringConvertible {
    package var path: String
    package var line = 0
    package var column = 0
    package var message: String

    init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    init(path: String, offset: Int, bytes: [UInt8], message: String) {
        self.path = path
        self.message = message
        let before = bytes[..<min(offset, bytes.count)]
        line = before.count(where: { $0 == UInt8(ascii: "\n") }) + 1
        column = before.count - (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
    }

    package var description: String {
        line > 0 ? "\(path):\(line):\(column): error[E0601]: \(message)" : "\(path): error[E0601]: \(message)"
    }
}
