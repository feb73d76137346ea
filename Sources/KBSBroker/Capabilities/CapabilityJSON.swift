import Foundation

/// The JSON the CLI and the admin API print for tokens, so both say the same: times in seconds since 1970 as in the
/// token, never the token text except where it is being handed out.
extension CapabilityAuthority {
    /// `{"token","id","expires"}`.
    public static func json(_ issued: Issued) -> String {
        render(["token": issued.token, "id": issued.id, "expires": Int(issued.expires)])
    }

    /// `{"id","subject","capabilities","expires"}`: what a verified token allows.
    public static func json(_ verified: Verified) -> String {
        render(["id": verified.id, "subject": verified.subject, "capabilities": verified.capabilities.map(\.description), "expires": Int(verified.expires)])
    }

    /// `{"id","subject","capabilities","issued","expires","revoked"?}`: an issued token's metadata.
    public static func json(_ stored: StoredCapabilityToken) -> String {
        let capabilities = (try? JSONSerialization.jsonObject(with: Data(stored.capabilitiesJSON.utf8))) as? [String] ?? []
        var object: [String: Any] = [
            "id": stored.id, "subject": stored.subject, "capabilities": capabilities, "issued": Int(stored.issuedAt), "expires": Int(stored.expiresAt),
        ]
        if let revoked = stored.revokedAt { object["revoked"] = Int(revoked) }
        return render(object)
    }

    private static func render(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
