import Foundation
import KBSClaims
import Testing

@testable import KBSIdentity

/// identity.md §9, "the top 10 attacks": each is named here with the artifacts that carry it, and each artifact
/// must be refused with the reason the defence gives (or, for comment truncation, accepted with the full text).
/// Removing a defence makes its line fail here, whatever else the fixture suite says.
struct TopAttackTests {
    struct Attack: Sendable, CustomTestStringConvertible {
        var number: Int
        var summary: String
        /// `kind/case` → the reason the defence refuses it with ("accept:<subject>" where the defence is reading right).
        var artifacts: [(String, String)]
        var testDescription: String { "\(number). \(summary)" }
    }

    static let attacks: [Attack] = [
        Attack(
            number: 1, summary: "SAML signature wrapping",
            artifacts: [
                ("saml/xsw1_response_wrapped_in_signature", "wrapping"), ("saml/xsw2_response_sibling_before_signature", "wrapping"),
                ("saml/xsw3_evil_assertion_first", "wrapping"), ("saml/xsw4_signed_inside_evil_assertion", "wrapping"),
                ("saml/xsw5_signature_in_evil_original_last", "wrapping"), ("saml/xsw6_original_inside_signature", "wrapping"),
                ("saml/xsw7_signed_in_extensions", "wrapping"), ("saml/xsw8_original_in_signature_object", "wrapping"),
                ("saml/signed_assertion_in_advice", "wrapping"), ("saml/duplicate_id_evil_assertion_first", "wrapping"),
                ("saml/two_references", "wrapping"), ("saml/reference_to_assertion_from_response", "wrapping"),
            ]),
        Attack(
            number: 2, summary: "SAML comment truncation",
            artifacts: [
                ("saml/comment_truncation_nameid", "accept:admin@example.com.evil.com")
            ]),
        Attack(
            number: 3, summary: "JWT alg none and HS/RS key confusion",
            artifacts: [
                ("jwt/alg_none", "algorithm"), ("jwt/alg_None", "algorithm"), ("jwt/alg_NONE", "algorithm"), ("jwt/alg_nOnE", "algorithm"),
                ("jwt/hs256_key_confusion_pem", "algorithm"), ("jwt/hs256_key_confusion_jwk_json", "algorithm"),
            ]),
        Attack(
            number: 4, summary: "JWT key sources",
            artifacts: [
                ("jwt/embedded_jwk_attacker_key", "untrusted_key"), ("jwt/jku_attacker_url", "untrusted_key"),
                ("jwt/x5u_attacker_url", "untrusted_key"), ("jwt/hs256_kid_path_traversal_empty_key", "algorithm"),
                ("jwt/kid_unknown", "unknown_key"), ("jwt/same_kid_attacker_key", "signature"),
                ("jwt/kid_rotated_no_refresh", "unknown_key"),
                // The refresh-storm limit is SessionAndKeyTests.unknownKeyIDsRefreshAtMostOncePerWindow.
            ]),
        Attack(
            number: 5, summary: "OIDC claim checks",
            artifacts: [
                ("jwt/wrong_iss", "issuer"), ("jwt/iss_trailing_slash", "issuer"), ("jwt/wrong_aud", "audience"),
                ("jwt/aud_array_with_ours_but_azp_other", "audience"), ("jwt/expired", "expired"), ("jwt/nbf_in_future", "not_yet_valid"),
                ("jwt/iat_in_future", "issued_in_future"), ("jwt/nonce_mismatch", "nonce"), ("jwt/access_token_as_id_token", "token_type"),
                ("jwt/crit_unknown_extension", "critical"),
            ]),
        Attack(
            number: 6, summary: "ECDSA edge cases",
            artifacts: [
                ("jwt/es256_psychic_r0_s0", "signature"), ("jwt/es256_der_signature", "signature"), ("eip191/high_s", "malleable"),
                ("eip191/v_29", "malleable"), ("did/secp256k1_high_s", "malleable"),
                // Keccak-256 versus SHA3-256 is Keccak256Tests.publishedVectors (the empty string differs).
            ]),
        Attack(
            number: 7, summary: "Ethereum replay and binding",
            artifacts: [
                ("siwe/wrong_domain", "domain"), ("siwe/replay_same_message", "replay"), ("siwe/expired", "expired"),
                ("siwe/not_yet_valid", "not_yet_valid"), ("eip712/wrong_chain_id", "chain"), ("eip712/wrong_verifying_contract", "chain"),
            ]),
        Attack(
            number: 8, summary: "trust-anchor substitution",
            artifacts: [
                ("saml/attacker_key_keyinfo_cert", "untrusted_key"), ("saml/attacker_key_mimic_cert", "untrusted_key"),
                ("did/did_key_unknown_codec", "unsupported"), ("did/did_key_wrong_length", "invalid_key"),
                ("did/did_key_p256_off_curve", "invalid_key"), ("did/did_jwk_private_d", "invalid_key"),
            ]),
        Attack(
            number: 9, summary: "replay across kinds",
            artifacts: [
                ("saml/replay_same_response", "replay"), ("saml/in_response_to_wrong_response", "in_response_to"),
                ("hmac/replay_same_request", "replay"), ("hmac/created_too_old", "expired"),
            ]),
        Attack(
            number: 10, summary: "parser differentials",
            artifacts: [
                ("saml/doctype_xxe", "malformed"), ("saml/doctype_billion_laughs", "malformed"),
                ("jwt/duplicate_header_member", "malformed"), ("jwt/duplicate_sub_claim", "malformed"),
                ("jwt/padding_in_b64", "malformed"), ("jwt/extra_segment", "malformed"),
            ]),
    ]

    @Test(arguments: attacks) func defenceHolds(_ attack: Attack) async throws {
        for (path, expected) in attack.artifacts {
            let parts = path.split(separator: "/").map(String.init)
            let fixture = try #require(
                IdentityFixtureTests.cases.first { $0.kind.rawValue == parts[0] && $0.name == parts[1] },
                "no fixture \(path): run Tools/gen-identity-fixtures")
            switch try await IdentityFixtureTests.outcome(of: fixture) {
            case .success(let principal):
                #expect(expected == "accept:" + principal.subject, "\(path) was accepted as \(principal.subject)")
            case .failure(let error):
                #expect(error.reason.rawValue == expected, "\(path): \(error)")
            }
        }
    }

    @Test func keccakIsNotSHA3() {
        // The empty string: Keccak-256 (Ethereum) c5d2…a470, SHA3-256 (FIPS 202) a7ff…434a.
        #expect(Hex.encode(Keccak256.hash([UInt8]())) == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
    }
}
