package import Foundation
import KBSClaims

/// EIP-712: `{"typedData", "signature"}`, accepted when the signature over the typed-data digest recovers to
/// `address` (any signer when nil: a login learns the account from the signature) and the domain is the one expected (chain id, verifying contract, name), so a signature made for
/// another chain or contract does not count here.
package struct TypedDataVerifier: CredentialVerifier {
    package var kind: CredentialKind { .eip712 }
    package var address: String?
    /// The `chainId` the domain must carry, when set.
    package var chainID: Int64?
    /// The `verifyingContract` the domain must carry, when set.
    package var verifyingContract: String?
    /// The domain `name` required, when set.
    package var domainName: String?

    /// Creates a verifier.
    package init(address: String?, chainID: Int64? = nil, verifyingContract: String? = nil, domainName: String? = nil) {
        self.address = address
        self.chainID = chainID
        self.verifyingContract = verifyingContract
        self.domainName = domainName
    }

    package func verify(_ credential: [UInt8], at time: Date) async throws(IdentityError) -> Principal {
        var expected: EthereumAddress?
        if let address {
            do {
                expected = try EthereumAddress(address)
            } catch {
                throw IdentityError(.configuration, "--address: \(error.message)")
            }
        }
        let root = try CredentialJSON.object(credential, what: "credential")
        guard let typedNode = root["typedData"], let signature = try CredentialJSON.string(root, "signature", in: "credential") else {
            throw IdentityError(.malformed, "the credential needs `typedData` and a string `signature`")
        }
        let typed = try TypedData(typedNode)
        guard typed.types["EIP712Domain"] != nil else { throw IdentityError(.malformed, "typed data must declare `EIP712Domain`") }
        let digest = try typed.digest()
        let signer = try EthereumSignature.signer(of: signature, digest: digest)
        if let expected, signer != expected {
            throw IdentityError(.address, "the typed data was signed by \(signer.checksummed), not the expected account")
        }

        let domainChain: Int64? =
            switch typed.domain["chainId"]?.value {
            case .number(let integer, _): integer
            case .string(let text): TypedDataVerifier.integer(text)
            default: nil
            }
        if let chainID, domainChain != chainID {
            throw IdentityError(.chain, "the signature is for chain \(domainChain.map(String.init) ?? "none"), not \(chainID)")
        }
        let contract = typed.domain["verifyingContract"]?.stringValue
        if let verifyingContract, contract?.lowercased() != verifyingContract.lowercased() {
            throw IdentityError(.chain, "the signature is for another verifying contract")
        }
        let name = typed.domain["name"]?.stringValue
        if let domainName, name != domainName { throw IdentityError(.domain, "the signature is for domain `\(name ?? "")`") }

        var attributes: [String: ClaimValue] = [
            "address": .string(signer.checksummed), "primary_type": .string(typed.primaryType),
            "digest": .string("0x" + Hex.encode(digest)),
        ]
        if let domainChain { attributes["chain_id"] = .int(domainChain) }
        if let contract { attributes["verifying_contract"] = .string(contract) }
        if let name { attributes["domain_name"] = .string(name) }
        return Principal(
            subject: signer.checksummed, issuer: domainChain.map { "eip155:\($0)" } ?? "eip712", method: .eip712,
            verifiedAt: time, attributes: attributes)
    }

    /// A chain id written as a JSON string, decimal or 0x-hex as wallets send it; nil for anything else (a sign, spaces).
    static func integer(_ text: String) -> Int64? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") {
            let digits = text.dropFirst(2)
            guard !digits.isEmpty, digits.allSatisfy(\.isHexDigit), digits.allSatisfy(\.isASCII) else { return nil }
            return Int64(digits, radix: 16)
        }
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(text)
    }
}
