import KBSClaims

/// The JSON the CLI and the admin API print for tokens, so both say the same: times in seconds since 1970 as in the
/// token, never the token text except where it is being handed out. Members in name order.
extension CapabilityAuthority {
    /// `{"expires","id","token"}`.
    package static func json(_ issued: Issued) -> String {
        render {
            $0.member("expires", issued.expires)
            $0.member("id", issued.id)
            $0.member("token", issued.token)
        }
    }

    /// `{"capabilities","expires","id","subject"}`: what a verified token allows.
    package static func json(_ verified: Verified) -> String {
        render { object in
            list(verified.capabilities.map(\.description), to: &object)
            object.member("expires", verified.expires)
            object.member("id", verified.id)
            object.member("subject", verified.subject)
        }
    }

    /// `{"capabilities","expires","id","issued","revoked"?,"subject"}`: an issued token's metadata.
    package static func json(_ stored: StoredCapabilityToken) -> String {
        // The stored list is JSON this authority wrote; anything else reads as no capabilities.
        var capabilities: [String] = []
        if let node = try? JSONNode.parse(Array(stored.capabilitiesJSON.utf8)), case .array(let items) = node.value {
            capabilities = items.compactMap(\.stringValue)
        }
        return render { object in
            list(capabilities, to: &object)
            object.member("expires", stored.expiresAt)
            object.member("id", stored.id)
            object.member("issued", stored.issuedAt)
            if let revoked = stored.revokedAt { object.member("revoked", revoked) }
            object.member("subject", stored.subject)
        }
    }

    private static func render(_ members: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        writer.object(members)
        return writer.text
    }

    /// The `capabilities` member.
    private static func list(_ capabilities: [String], to object: inout JSONWriter) {
        object.key("capabilities")
        object.array { list in for capability in capabilities { list.string(capability) } }
    }
}
