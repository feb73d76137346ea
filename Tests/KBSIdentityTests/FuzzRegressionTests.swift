import Foundation
import KBSClaims
import KBSPolicyTesting
import Testing

@testable import KBSIdentity

/// Inputs the fuzzers once crashed on, kept so the fix stays: each must now be refused or accepted, never trap.
struct FuzzRegressionTests {
    /// `Fixtures/fuzz-regressions/jwt-claims/crash-df54…`: `exp` = Int64.max made `exp + leeway` overflow.
    @Test func jwtClaimsWithExtremeTimes() throws {
        let path = RepositoryPaths.path("Fixtures/fuzz-regressions/jwt-claims/crash-df54c9b7775594d81f9b3f270fde6a205c21ac2d")
        let bytes = try #require(FileManager.default.contents(atPath: path), "the regression input is missing")
        let claims = try CredentialJSON.object(Array(bytes), what: "claims")
        #expect(throws: IdentityError.self) { try JWTVerifier.checkTimes(claims, now: 1_800_000_000) }  // `iat` is a string

        let far = try CredentialJSON.object(
            Array(#"{"exp":9223372036854775807,"nbf":-9223372036854775808,"iat":-9223372036854775808}"#.utf8),
            what: "claims")
        try JWTVerifier.checkTimes(far, now: 1_800_000_000)
        let past = try CredentialJSON.object(Array(#"{"exp":-9223372036854775808}"#.utf8), what: "claims")
        #expect(throws: IdentityError(.expired, "the token expired")) { try JWTVerifier.checkTimes(past, now: 1_800_000_000) }
        let future = try CredentialJSON.object(Array(#"{"exp":9223372036854775807,"nbf":9223372036854775807}"#.utf8), what: "claims")
        #expect(throws: IdentityError(.notYetValid, "the token is not valid yet")) { try JWTVerifier.checkTimes(future, now: 1_800_000_000) }
    }
}
