import Crypto
import KBSClaims

/// `did:pkh:eip155:<chain id>:<address>`: a DID for an Ethereum account (did:pkh method, CAIP-10 account ids).
///
/// The document's one verification method, `#blockchainAccountId`, is an `EcdsaSecp256k1RecoveryMethod2020`:
/// there is no key to look up, so a JWS proves control with `ES256K-R`, a recoverable secp256k1 signature
/// `r ‖ s ‖ v` over SHA-256 of the signing input, whose recovered key must hash to the account's address.
struct DIDPKH {
    static let fragment = "blockchainAccountId"
    static let algorithm = "ES256K-R"

    /// The CAIP-2 chain, e.g. `eip155:1`.
    var chain: String
    var address: EthereumAddress

    init(_ did: String) throws(IdentityError) {
        guard did.utf8.count <= 128 else { throw IdentityError(.malformed, "the DID is too long") }
        let parts = did.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "did", parts[1] == "pkh" else { throw IdentityError(.malformed, "`\(did.prefix(60))` is not a did:pkh") }
        guard parts[2] == "eip155" else {
            throw IdentityError(.unsupported, "did:pkh namespace `\(parts[2].prefix(16))` is not supported (eip155 is)")
        }
        // CAIP-2 eip155 references are decimal chain ids without leading zeros.
        guard (1...32).contains(parts[3].count), parts[3].allSatisfy({ $0.isASCII && $0.isNumber }), parts[3].first != "0" else {
            throw IdentityError(.malformed, "`\(parts[3].prefix(40))` is not an EIP-155 chain id")
        }
        chain = "eip155:" + parts[3]
        address = try EthereumAddress(String(parts[4]))
    }

    /// The DID with the address in EIP-55 form.
    var canonical: String { "did:pkh:" + chain + ":" + address.checksummed }

    /// Checks a 65-byte `ES256K-R` signature over `input` recovers to this account.
    func verify(_ signature: [UInt8], over input: [UInt8]) throws(IdentityError) {
        guard signature.count == 65 else { throw IdentityError(.signature, "an ES256K-R signature is 65 bytes, not \(signature.count)") }
        // ES256K-R writes the recovery id as 0 or 1; 27/28 belong to Ethereum's own signatures.
        guard signature[64] <= 1 else { throw IdentityError(.malleable, "the recovery id is \(signature[64]), not 0 or 1") }
        let signer = try EthereumSignature.signer(of: signature, digest: Array(SHA256.hash(data: input)))
        guard signer == address else { throw IdentityError(.address, "the proof was signed by another account") }
    }
}
