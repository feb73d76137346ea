// Sign-In with Ethereum messages behind a valid signature: `Tools/fuzz siwe-message`. See IdentityFuzz.swift for
// the shared checks and SIWEFuzz.swift for the verifier's configuration (the manifest's domain and time).
//
// In the `siwe` target a mutated message recovers to some other account than the one it names, so it is refused
// as `address` and the checks after the signature (domain, chain, nonce, validity window, replay, attributes) only
// ever see the fixtures' own messages. Here the input is the message text: the harness signs it (EIP-191
// personal_sign, libsecp256k1) with the private key 1, whose account is `siweFuzzAccount`, and wraps it as the
// credential JSON. Seeds: Tools/fuzz takes the fixture messages with their address line set to that account.
//
// Checks, beyond the shared ones and the `siwe` target's checks on an accepted message: a message this harness
// signed is never refused for its signature (`signature`, `malleable`: the signature is low-s with v 27/28), and is
// refused as `address` only when the message names another account than ours.
import CSecp256k1
import Foundation
import KBSClaims
import KBSIdentity

/// The EIP-55 account of the secp256k1 private key 1 (Tools/fuzz writes it into the seed messages).
let siweFuzzAccount = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"

/// Wraps libsecp256k1 signing; the context is only read after creation.
private final class Signer: @unchecked Sendable {
    let context = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE))!
    let secretKey: [UInt8] = Array(repeating: 0, count: 31) + [1]

    /// The account of `secretKey`: the last 20 bytes of keccak256 of the uncompressed public key, EIP-55 cased.
    func account() -> String {
        var publicKey = secp256k1_pubkey()
        fuzzCheck(secp256k1_ec_pubkey_create(context, &publicKey, secretKey) == 1, "secp256k1_ec_pubkey_create failed")
        var serialized = [UInt8](repeating: 0, count: 65)
        var length = 65
        fuzzCheck(
            secp256k1_ec_pubkey_serialize(context, &serialized, &length, &publicKey, UInt32(SECP256K1_EC_UNCOMPRESSED)) == 1,
            "secp256k1_ec_pubkey_serialize failed")
        let lower = hex(Keccak256.hash(serialized[1...]).suffix(20))
        let hash = Keccak256.hash(Array(lower.utf8))
        let cased = lower.enumerated().map { index, character in
            let nibble = (hash[index / 2] >> (index % 2 == 0 ? 4 : 0)) & 0xF
            return nibble >= 8 ? String(character).uppercased() : String(character)
        }
        return "0x" + cased.joined()
    }

    /// `0x` r ‖ s ‖ v (v = 27 + recovery id) over EIP-191's digest of `message`.
    func personalSign(_ message: [UInt8]) -> String {
        let digest = Keccak256.hash(Array("\u{19}Ethereum Signed Message:\n\(message.count)".utf8) + message)
        var signature = secp256k1_ecdsa_recoverable_signature()
        fuzzCheck(secp256k1_ecdsa_sign_recoverable(context, &signature, digest, secretKey, nil, nil) == 1, "secp256k1_ecdsa_sign_recoverable failed")
        var compact = [UInt8](repeating: 0, count: 64)
        var recoveryID: Int32 = 0
        fuzzCheck(
            secp256k1_ecdsa_recoverable_signature_serialize_compact(context, &compact, &recoveryID, &signature) == 1,
            "secp256k1 serialize_compact failed")
        return "0x" + hex(compact + [UInt8(27 + recoveryID)])
    }

    /// Lowercase hex (not `String(format:)`, which costs more under ASan than the signing itself).
    private func hex(_ bytes: some Collection<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes { text += [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]] }
        return String(decoding: text, as: UTF8.self)
    }
}

func makeSIWEMessageFuzzCheck() -> IdentityFuzzCheck {
    let fixtures = IdentityFixtures.load("siwe")
    guard let domain = fixtures.options["domain"] else { fuzzSetupFailure("Fixtures/identity/siwe/manifest.json names no `domain`") }
    let options = ["domain": domain]
    _ = fixtures.verifier(.siwe, options)
    let now = fixtures.now
    let signer = Signer()
    guard signer.account() == siweFuzzAccount else {
        fuzzSetupFailure("the private key 1 has account \(signer.account()), not \(siweFuzzAccount)")
    }

    return { input in
        // What is signed and sent is the input read as UTF-8 (ill-formed bytes become U+FFFD, as JSON text must).
        let message = String(decoding: input, as: UTF8.self)
        let credential = Array(#"{"message":\#(JSONString.quote(message)),"signature":"\#(signer.personalSign(Array(message.utf8)))"}"#.utf8)
        let verifier = fixtures.verifier(.siwe, options, replay: MemoryReplayCache())
        let outcome = verifySynchronously(verifier, credential, at: now)
        if case .failure(let error) = outcome {
            fuzzCheck(error.reason != .signature && error.reason != .malleable, "siwe-message: our own signature was refused: \(error)")
            if error.reason == .address {
                let lines = message.split(separator: "\n", omittingEmptySubsequences: false)
                fuzzCheck(
                    lines.count < 2 || lines[1] != siweFuzzAccount, "siwe-message: refused as `address` although it names our account: \(error)")
            }
        }
        guard let principal = checkOutcome(outcome, of: credential, kind: .siwe, at: now) else { return }
        fuzzCheck(principal.subject == siweFuzzAccount, "siwe-message: accepted for \(principal.subject), not the signer")
        checkAcceptedSIWE(principal, credential, verifier: verifier, domain: domain, at: now)
    }
}
