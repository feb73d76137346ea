import KBSClaims

/// The JSON the CLI and the admin API print for tokens, so both say the same: times in seconds since 1970 as in the
/// token, never the token text except where it is being handed out. Members in name order.
extension CapabilityAuthority {
    /// `{"expires","id","token"}`.
    package static func json(_ issued: Issued) -> String {
        var writer = JSONWriter()
        writer.object { object in
            object.member("expires", issued.expires)
            object.member("id", issued.id)
            object.member("token", issued.token)
        }
        return writer.text
    }

    /// `{"capabilities","expires","id","subject"}`: what a verified token allows.
    package static func json(_ verified: Verified) -> String {
        var writer = JSONWriter()
        writer.object { object in
            object.key("capabilities")
            object.array { list in for capability in verified.capabilities { list.string(capability.description) } }
            object.member("expires", verified.expires)
            object.member("id", verified.id)
            object.member("subject", verified.subject)
        }
        return writer.text
    }

    /// `{"capabilities","expires","id","issued","revoked"?,"subject"}`: an issued token's metadata.
    package static func json(_ stored: StoredCapabilityToken) -> String {
        var writer = JSONWriter()
        writer.object { object in
            object.key("capabilities")
            // The stored list is JSON this authority wrote; anything else reads as no capabilities.
            if let list = try? JSONNode.parse(Array(stored.capabilitiesJSON.utf8)), case .array(let items) = list.value {
                object.array { out in for item in items { if let text = item.stringValue { out.string(text) } } }
            } else {
                object.array { _ in }
            }
            object.member("expires", stored.expiresAt)
            object.member("id", stored.id)
            object.member("issued", stored.issuedAt)
            if let revoked = stored.revokedAt { object.member("revoked", revoked) }
            object.member("subject", stored.subject)
        }
        return writer.text
    }
}
