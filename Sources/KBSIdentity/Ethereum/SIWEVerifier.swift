package import Foundation
import KBSClaims

/// Sign-In with Ethereum (EIP-4361): `{"message", "signature"}`. The signature (EIP-191 over the exact message)
/// must recover to the message's address, the message must name our domain, the expected nonce (used once),
/// the allowed chain, and be within its validity window.
package struct SIWEVerifier: CredentialVerifier {
    package var kind: CredentialKind { .siwe }
    /// Our `host[:port]`, which the message's domain must equal (phishing sites sign for their own domain).
    package var domain: String
    /// The account expected, when known in advance.
    package var address: String?
    /// The server-issued nonce the message must carry.
    package var nonce: String?
    /// The chain the sign-in is for, when restricted.
    package var chainID: Int64?
    /// Where used nonces are remembered.
    package var replay: any ReplayCache
    /// How long a message without `Expiration Time` stays usable after `Issued At`.
    package var maximumAgeSeconds: Int64

    /// Creates a verifier.
    package init(
        domain: String, address: String? = nil, nonce: String? = nil, chainID: Int64? = nil,
        replay: any ReplayCache = MemoryReplayCache(), maximumAgeSeconds: Int64 = 900
    ) {
        self.domain = domain
        self.address = address
        self.nonce = nonce
        self.chainID = chainID
        self.replay = replay
        self.maximumAgeSeconds = maximumAgeSeconds
    }

    package func verify(_ credential: [UInt8], at time: Date) async throws(IdentityError) -> Principal {
        let now = Int64(time.timeIntervalSince1970.rounded(.down))
        let root = try CredentialJSON.object(credential, what: "credential")
        guard let text = try CredentialJSON.string(root, "message", in: "credential"),
            let signature = try CredentialJSON.string(root, "signature", in: "credential")
        else { throw IdentityError(.malformed, "the credential needs string members `message` and `signature`") }
        let message = try SIWEMessage(text)
        let signer = try EthereumSignature.signer(of: signature, digest: EthereumSignature.personalDigest(Array(text.utf8)))
        guard signer == message.address else { throw IdentityError(.address, "the signature is not by the message's account") }
        if let address {
            let expected: EthereumAddress
            do {
                expected = try EthereumAddress(address)
            } catch {
                throw IdentityError(.configuration, "--address: \(error.message)")
            }
            guard signer == expected else { throw IdentityError(.address, "the message is signed by another account") }
        }
        guard message.domain == domain else { throw IdentityError(.domain, "the message is for `\(message.domain)`, not this service") }
        if let chainID, message.chainID != chainID { throw IdentityError(.chain, "the message is for chain \(message.chainID), not \(chainID)") }
        if let nonce {
            guard constantTimeEqual(Array(message.nonce.utf8), Array(nonce.utf8)) else {
                throw IdentityError(.nonce, "the message's nonce is not the one issued")
            }
        }
        if let expiry = message.expirationTime, now > expiry + clockLeewaySeconds { throw IdentityError(.expired, "the message expired") }
        if let notBefore = message.notBefore, notBefore > now + clockLeewaySeconds {
            throw IdentityError(.notYetValid, "the message is not valid yet")
        }
        guard message.issuedAt <= now + clockLeewaySeconds else { throw IdentityError(.issuedInFuture, "`Issued At` is in the future") }
        if message.expirationTime == nil, now > message.issuedAt + maximumAgeSeconds {
            throw IdentityError(.expired, "the message is older than \(maximumAgeSeconds) s and sets no expiration")
        }
        let until = (message.expirationTime ?? message.issuedAt + maximumAgeSeconds) + clockLeewaySeconds
        guard try await replay.insert(message.nonce, namespace: "siwe:" + message.domain, expiry: until, now: now) else {
            throw IdentityError(.replay, "this nonce was already used")
        }
        var attributes: [String: ClaimValue] = [
            "address": .string(signer.checksummed), "chain_id": .int(message.chainID), "domain": .string(message.domain),
            "uri": .string(message.uri), "nonce": .string(message.nonce),
        ]
        if let statement = message.statement { attributes["statement"] = .string(statement) }
        if let requestID = message.requestID { attributes["request_id"] = .string(requestID) }
        if !message.resources.isEmpty { attributes["resources"] = .strings(message.resources) }
        return Principal(
            subject: signer.checksummed, issuer: "eip155:\(message.chainID)", method: .siwe, verifiedAt: time,
            attributes: attributes)
    }
}
