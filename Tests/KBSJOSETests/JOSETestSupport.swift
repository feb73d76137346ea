import Crypto
import Foundation
import KBSClaims

@testable import KBSJOSE

/// JWK objects written the way a client writes them, parsed the way the package parses them.
enum JWKs {
    static func node(_ jwk: [String: Any]) throws -> JSONNode {
        try JSONNode.parse(Array(try JSONSerialization.data(withJSONObject: jwk)))
    }

    static func ec(_ raw: Data, curve: String, alg: String? = nil) -> [String: Any] {
        let half = raw.count / 2
        var jwk: [String: Any] = ["kty": "EC", "crv": curve, "x": Base64URL.encode(raw.prefix(half)), "y": Base64URL.encode(raw.suffix(half))]
        if let alg { jwk["alg"] = alg }
        return jwk
    }

    static func rsa(n: some Collection<UInt8>, e: some Collection<UInt8>) -> [String: Any] {
        ["kty": "RSA", "n": Base64URL.encode(n), "e": Base64URL.encode(e)]
    }

    /// The reason a JOSE step refuses with, nil when it succeeds.
    static func reason(_ body: () throws(JOSEError) -> Void) -> JOSEErrorReason? {
        do throws(JOSEError) {
            try body()
            return nil
        } catch { return error.reason }
    }
}
