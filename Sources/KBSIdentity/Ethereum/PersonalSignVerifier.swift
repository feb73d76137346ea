package import Foundation
import KBSClaims

/// EIP-191 `personal_sign`: `{"message", "signature"}`, accepted when the signature recovers to `address`.
package struct PersonalSignVerifier: CredentialVerifier {
    package var kind: CredentialKind { .eip191 }
    /// The account expected to have signed (`0x…`, EIP-55 when mixed case).
    package var address: String

    /// Creates a verifier for one expected account.
    package init(address: String) {
        self.address = address
    }

    package func verify(_ credential: [UInt8], at time: Date) async throws(IdentityError) -> Principal {
        let expected: EthereumAddress
        do {
            expected = try EthereumAddress(address)
        } catch {
            throw IdentityError(.configuration, "--address: \(error.message)")
        }
        let root = try CredentialJSON.object(credential, what: "credential")
        guard let message = try CredentialJSON.string(root, "message", in: "credential"),
            let signature = try CredentialJSON.string(root, "signature", in: "credential")
        else { throw IdentityError(.malformed, "the credential needs string members `message` and `signature`") }
        let signer = try EthereumSignature.signer(of: signature, digest: EthereumSignature.personalDigest(Array(message.utf8)))
        guard signer == expected else { throw IdentityError(.address, "the message was signed by \(signer.checksummed), not the expected account") }
        return Principal(
            subject: signer.checksummed, issuer: "eip191", method: .eip191, verifiedAt: time,
            attributes: ["address": .string(signer.checksummed)])
    }
}
