/// One right a capability token grants: `action:resource`, where the resource may end in `*` to cover every
/// resource beginning with what comes before it.
///
/// Deliberately small, so that what a token grants can be read at a glance and compared without a policy engine:
/// - the action is 1–64 of `a-z 0-9 . _ -` and matches exactly (no wildcard actions);
/// - the resource is 1–1024 visible ASCII characters; `*` may appear only last, and `*` alone covers every resource.
///
/// `read:secrets/db/*` covers `read:secrets/db/password` and `read:secrets/db/*`, but not `read:secrets/dbx` or
/// `write:secrets/db/password`.
package struct Capability: Sendable, Hashable, CustomStringConvertible {
    /// The action, compared exactly.
    package let action: String
    /// The resource, without the trailing `*` of a prefix.
    package let resource: String
    /// Whether the resource ended in `*`.
    package let isPrefix: Bool

    /// Parses `action:resource`; nil when the text is outside the grammar.
    package init?(_ text: String) {
        guard let colon = text.utf8.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let action = text[..<colon]
        var resource = text[text.utf8.index(after: colon)...]
        guard (1...64).contains(action.utf8.count),
            action.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }),
            (1...1024).contains(resource.utf8.count),
            resource.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E })
        else { return nil }
        let isPrefix = resource.utf8.last == UInt8(ascii: "*")
        if isPrefix { resource = resource.dropLast() }
        guard !resource.utf8.contains(UInt8(ascii: "*")) else { return nil }
        self.action = String(action)
        self.resource = String(resource)
        self.isPrefix = isPrefix
    }

    package var description: String { action + ":" + resource + (isPrefix ? "*" : "") }

    /// Whether holding `self` allows `other`: the same action, and `other`'s resources all among `self`'s.
    package func covers(_ other: Capability) -> Bool {
        guard action == other.action else { return false }
        if isPrefix { return other.resource.utf8.starts(with: resource.utf8) }
        return !other.isPrefix && other.resource == resource
    }

    /// What both `self` and `other` allow, if anything. In this grammar two capabilities either do not overlap or one
    /// covers the other, so the narrower one is the whole intersection.
    func intersection(_ other: Capability) -> Capability? {
        if covers(other) { return other }
        if other.covers(self) { return self }
        return nil
    }

    /// What both lists allow, as a list without a capability covered by another, in text order.
    static func intersection(_ left: [Capability], _ right: [Capability]) -> [Capability] {
        var both: Set<Capability> = []
        for a in left {
            for b in right {
                if let common = a.intersection(b) { both.insert(common) }
            }
        }
        return minimal(Array(both))
    }

    /// `list` without duplicates or capabilities another one covers, in text order.
    static func minimal(_ list: [Capability]) -> [Capability] {
        let unique = Array(Set(list))
        let kept = unique.filter { candidate in !unique.contains { $0 != candidate && $0.covers(candidate) } }
        return kept.sorted { $0.description < $1.description }
    }
}
