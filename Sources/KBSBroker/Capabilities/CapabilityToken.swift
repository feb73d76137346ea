import Crypto
import Foundation
import KBSClaims

/// A capability token: `kbsc1.` and the base64url of a JSON object
/// `{"v":1,"id","sub","caps":[…],"iat","exp","caveats":[{"caps"?,"exp"?}…],"sig"}`, a macaroon-style HMAC chain.
///
/// `sig₀ = HMAC-SHA256(root key, JCS(base))` where the base is the object without `caveats` and `sig`, and
/// `sigᵢ = HMAC-SHA256(sigᵢ₋₁, JCS(caveatᵢ))`; `sig` is the last. A holder appends a caveat by chaining from `sig`
/// without the root key, but cannot remove or change one, because that needs an earlier link the one-way chain
/// hides. A caveat can only narrow: the rights are the base's capabilities intersected with every caveat's, and the
/// expiry the earliest of all.
///
/// Parsing is strict, since what is signed is the re-encoded form of what was parsed: duplicate or unknown members,
/// non-integer times, capabilities outside the grammar and anything over the size bounds are all `invalid_token`.
package struct CapabilityToken: Sendable, Equatable {
    /// A restriction a holder appended.
    package struct Caveat: Sendable, Equatable {
        /// When present, only what these capabilities also allow remains.
        package var capabilities: [Capability]?
        /// When present, the token ends at this time (seconds since 1970) or earlier.
        package var expires: Int64?
    }

    package let id: String
    package let subject: String
    /// The capabilities the issuer granted, before caveats.
    package let capabilities: [Capability]
    /// Seconds since 1970.
    package let issuedAt: Int64
    /// The issuer's expiry, before caveats.
    package let expiresAt: Int64
    package let caveats: [Caveat]
    let signature: [UInt8]

    static let prefix = "kbsc1."
    /// Bounds that keep parsing and checking cheap whatever a client sends.
    package static let maximumBytes = 16 * 1024
    package static let maximumCaveats = 32
    package static let maximumCapabilities = 64
    static let maximumSubjectBytes = 256
    /// JSON numbers are exact only up to 2⁵³, and JCS writes them as ECMAScript does.
    static let maximumTime: Int64 = 1 << 53

    init(id: String, subject: String, capabilities: [Capability], issuedAt: Int64, expiresAt: Int64, caveats: [Caveat], signature: [UInt8]) {
        self.id = id
        self.subject = subject
        self.capabilities = capabilities
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.caveats = caveats
        self.signature = signature
    }

    /// What the token grants once every caveat is applied.
    package var effectiveCapabilities: [Capability] {
        caveats.reduce(Capability.minimal(capabilities)) { rights, caveat in
            caveat.capabilities.map { Capability.intersection(rights, $0) } ?? rights
        }
    }

    /// The earliest expiry of the issuer's and every caveat's.
    package var effectiveExpiry: Int64 {
        caveats.reduce(expiresAt) { earliest, caveat in min(earliest, caveat.expires ?? earliest) }
    }

    /// Whether the base and every caveat allow `capability` (the intersection, without computing it).
    package func grants(_ capability: Capability) -> Bool {
        capabilities.contains { $0.covers(capability) }
            && caveats.allSatisfy { caveat in caveat.capabilities.map { list in list.contains { $0.covers(capability) } } ?? true }
    }

    // MARK: Text

    /// Parses the token text; anything malformed is `invalid_token` (the message never echoes the token).
    package init(parsing text: String) throws(BrokerError) {
        func invalid(_ why: String) -> BrokerError { BrokerError(.unauthenticated, "invalid_token", "the capability token is malformed: \(why)") }
        guard text.utf8.count <= Self.maximumBytes else { throw invalid("it is over \(Self.maximumBytes) bytes") }
        guard text.hasPrefix(Self.prefix), let json = Base64URL.decode(String(text.dropFirst(Self.prefix.count))) else {
            throw invalid("it is not `\(Self.prefix)` and base64url")
        }
        let root: JSONNode
        do { root = try JSONNode.parse(json) } catch { throw invalid("its JSON does not parse (\(error.message))") }
        guard case .object(let members) = root.value else { throw invalid("it is not a JSON object") }
        let names: Set<String> = ["v", "id", "sub", "caps", "iat", "exp", "caveats", "sig"]
        guard members.count == names.count, members.allSatisfy({ names.contains($0.key) }) else {
            throw invalid("it must have exactly the members \(names.sorted().joined(separator: ", "))")
        }
        guard Self.integer(root["v"]) == 1 else { throw invalid("`v` must be 1") }
        guard let id = root["id"]?.stringValue, let uuid = UUID(uuidString: id), uuid.uuidString.lowercased() == id else {
            throw invalid("`id` must be a lowercase UUID")
        }
        guard let subject = root["sub"]?.stringValue, Self.isSubject(subject) else {
            throw invalid("`sub` must be 1 to \(Self.maximumSubjectBytes) bytes without control characters")
        }
        guard let capabilities = Self.capabilities(root["caps"]), !capabilities.isEmpty else {
            throw invalid("`caps` must be a list of 1 to \(Self.maximumCapabilities) capabilities `action:resource`")
        }
        guard let issuedAt = Self.integer(root["iat"]), let expiresAt = Self.integer(root["exp"]), expiresAt > issuedAt else {
            throw invalid("`iat` and `exp` must be whole seconds with `exp` after `iat`")
        }
        guard case .array(let caveatNodes) = root["caveats"]?.value, caveatNodes.count <= Self.maximumCaveats else {
            throw invalid("`caveats` must be a list of at most \(Self.maximumCaveats)")
        }
        var caveats: [Caveat] = []
        for node in caveatNodes {
            guard case .object(let members) = node.value, !members.isEmpty, members.allSatisfy({ $0.key == "caps" || $0.key == "exp" }) else {
                throw invalid("a caveat must be an object with `caps`, `exp` or both, and nothing else")
            }
            var caveat = Caveat()
            if let caps = node["caps"] {
                guard let list = Self.capabilities(caps) else { throw invalid("a caveat's `caps` must be a list of capabilities") }
                caveat.capabilities = list
            }
            if let exp = node["exp"] {
                guard let value = Self.integer(exp) else { throw invalid("a caveat's `exp` must be whole seconds") }
                caveat.expires = value
            }
            caveats.append(caveat)
        }
        guard let sigText = root["sig"]?.stringValue, let signature = Base64URL.decode(sigText), signature.count == 32 else {
            throw invalid("`sig` must be 32 bytes in base64url")
        }
        self.init(
            id: id, subject: subject, capabilities: capabilities, issuedAt: issuedAt, expiresAt: expiresAt, caveats: caveats, signature: signature)
    }

    /// The token text.
    package var text: String {
        var object = baseJSON
        object.removeLast()
        object += ",\"caveats\":[" + caveats.map(Self.caveatJSON).joined(separator: ",") + "]"
        object += ",\"sig\":\"" + Base64URL.encode(signature) + "\"}"
        return Self.prefix + Base64URL.encode(Self.canonical(object))
    }

    /// The bytes `sig₀` signs.
    var baseBytes: [UInt8] { Self.canonical(baseJSON) }

    /// The bytes link `caveat` signs.
    static func caveatBytes(_ caveat: Caveat) -> [UInt8] { canonical(caveatJSON(caveat)) }

    private var baseJSON: String {
        "{\"v\":1,\"id\":\(Self.quote(id)),\"sub\":\(Self.quote(subject)),\"caps\":\(Self.listJSON(capabilities)),"
            + "\"iat\":\(issuedAt),\"exp\":\(expiresAt)}"
    }

    private static func caveatJSON(_ caveat: Caveat) -> String {
        var members: [String] = []
        if let caps = caveat.capabilities { members.append("\"caps\":" + listJSON(caps)) }
        if let exp = caveat.expires { members.append("\"exp\":\(exp)") }
        return "{" + members.joined(separator: ",") + "}"
    }

    static func listJSON(_ list: [Capability]) -> String { "[" + list.map { quote($0.description) }.joined(separator: ",") + "]" }

    private static func quote(_ text: String) -> String {
        var out: [UInt8] = []
        JCS.appendString(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// JCS of JSON this type wrote itself, so it cannot fail; the fallback only keeps the signature total.
    private static func canonical(_ json: String) -> [UInt8] {
        (try? JCS.canonicalize(Array(json.utf8))) ?? Array(json.utf8)
    }

    // MARK: The chain

    /// The chain over `caveats` from `sig₀`: the signature the token must carry.
    static func chain(from first: [UInt8], caveats: [Caveat]) -> [UInt8] {
        caveats.reduce(first) { link, caveat in
            Array(HMAC<SHA256>.authenticationCode(for: caveatBytes(caveat), using: SymmetricKey(data: link)))
        }
    }

    /// This token carrying `signature` (an issuer's `sig₀`).
    func withSignature(_ signature: [UInt8]) -> CapabilityToken {
        CapabilityToken(
            id: id, subject: subject, capabilities: capabilities, issuedAt: issuedAt, expiresAt: expiresAt, caveats: caveats,
            signature: signature)
    }

    /// This token with `caveat` appended and the chain extended: no key needed.
    func appending(_ caveat: Caveat) -> CapabilityToken {
        let next = Self.chain(from: signature, caveats: [caveat])
        return CapabilityToken(
            id: id, subject: subject, capabilities: capabilities, issuedAt: issuedAt, expiresAt: expiresAt,
            caveats: caveats + [caveat], signature: next)
    }

    // MARK: Parsing helpers

    static func isSubject(_ text: String) -> Bool {
        (1...maximumSubjectBytes).contains(text.utf8.count) && !text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    /// A non-negative whole number written as digits only; nil for anything else.
    private static func integer(_ node: JSONNode?) -> Int64? {
        guard case .number(let number, let text) = node?.value, let value = number, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            value >= 0, value <= maximumTime
        else { return nil }
        return value
    }

    /// A list of at most `maximumCapabilities` valid capabilities; nil for anything else.
    private static func capabilities(_ node: JSONNode?) -> [Capability]? {
        guard case .array(let elements) = node?.value, elements.count <= maximumCapabilities else { return nil }
        var list: [Capability] = []
        for element in elements {
            guard let text = element.stringValue, let capability = Capability(text) else { return nil }
            list.append(capability)
        }
        return list
    }
}
