// AWS Signature Version 4 (the AWS KMS API's request signing): `Tools/fuzz sigv4`. See IdentityFuzz.swift for the
// shared checks.
//
// The input is a request as JSON, `{"method", "path", "query", "headers": [[name, value]…], "body"}` (the form of
// Fixtures/identity/sigv4/vectors.json, whose requests, signed by botocore, are the seeds). Inputs that are not such
// JSON are dropped: the JSON reader is fuzzed elsewhere, and the server hands the verifier parsed requests. The
// verifier is `SigV4Verifier(service: "kms")` with the vectors' keys, checked at their `now`, so the seeds are
// accepted and mutations reach the Authorization parser (credential scope, SignedHeaders, Signature), the date checks,
// the canonical request (path, query, header values), the payload hash and the HMAC comparison.
//
// Checks, beyond the shared ones: a refusal is one of the reasons `verify` documents; an accepted request is signed by
// a configured access key, whose subject it carries, and verifies again the same way (no state between calls).
import Dispatch
import Foundation
import KBSClaims
import KBSIdentity

private final class SigV4OutcomeBox: @unchecked Sendable {
    var outcome: Result<SigV4Verifier.Verified, IdentityError>?
}

/// `verifier.verify(request, at: time)`, waited for on libFuzzer's thread.
private func verifySigV4(_ verifier: SigV4Verifier, _ request: SigV4Verifier.Request, at time: Date) -> Result<SigV4Verifier.Verified, IdentityError>
{
    let box = SigV4OutcomeBox()
    let done = DispatchSemaphore(value: 0)
    Task {
        do throws(IdentityError) { box.outcome = .success(try await verifier.verify(request, at: time)) } catch {
            box.outcome = .failure(error)
        }
        done.signal()
    }
    done.wait()
    guard let outcome = box.outcome else { fuzzFailure("sigv4: verify finished without an outcome") }
    return outcome
}

/// The request an input describes; nil when it is not the vectors' request JSON.
private func sigV4Request(_ input: [UInt8]) -> SigV4Verifier.Request? {
    guard let root = try? JSONNode.parse(input), let method = root["method"]?.stringValue, let path = root["path"]?.stringValue,
        case .array(let lines)? = root["headers"]?.value, let body = root["body"]?.stringValue
    else { return nil }
    var headers: [(name: String, value: String)] = []
    for line in lines {
        guard case .array(let pair) = line.value, pair.count == 2, let name = pair[0].stringValue, let value = pair[1].stringValue else {
            return nil
        }
        headers.append((name, value))
    }
    return SigV4Verifier.Request(method: method, path: path, query: root["query"]?.stringValue, headers: headers, body: Array(body.utf8))
}

func makeSigV4FuzzCheck() -> IdentityFuzzCheck {
    let root = ProcessInfo.processInfo.environment["KBS_FUZZ_FIXTURES"] ?? "Fixtures/identity"
    let path = root + "/sigv4/vectors.json"
    guard let data = FileManager.default.contents(atPath: path), let vectors = try? JSONNode.parse(Array(data)),
        let nanoseconds = vectors["now"]?.stringValue.flatMap(Timestamp.parse), case .array(let list)? = vectors["keys"]?.value
    else { fuzzSetupFailure("cannot read \(path)") }
    var keys: [String: SigV4Verifier.Key] = [:]
    for key in list {
        guard let id = key["access_key"]?.stringValue, let secret = key["secret"]?.stringValue, let subject = key["subject"]?.stringValue
        else { fuzzSetupFailure("\(path): a key lacks access_key, secret or subject") }
        keys[id] = SigV4Verifier.Key(secret: Array(secret.utf8), subject: subject)
    }
    let known = keys
    let verifier = SigV4Verifier(service: "kms") { id throws(IdentityError) in known[id] }
    let now = Date(timeIntervalSince1970: Double(nanoseconds) / 1e9)
    let reasons: Set<IdentityErrorReason> = [.unsigned, .malformed, .unsupported, .expired, .issuedInFuture, .unknownKey, .revoked, .signature]

    return { input in
        guard let request = sigV4Request(input) else { return }
        switch verifySigV4(verifier, request, at: now) {
        case .failure(let error):
            fuzzCheck(reasons.contains(error.reason), "sigv4: refused as \(error.reason.rawValue), not a reason verify documents")
            fuzzCheck(!error.message.isEmpty, "sigv4: refused (\(error.reason.rawValue)) without a message")
        case .success(let verified):
            guard let key = known[verified.keyID] else { fuzzFailure("sigv4: accepted for access key \(verified.keyID.prefix(40)), not configured") }
            fuzzCheck(verified.principal.subject == key.subject, "sigv4: accepted as \(verified.principal.subject), not \(key.subject)")
            guard case .success(let again) = verifySigV4(verifier, request, at: now), again.keyID == verified.keyID else {
                fuzzFailure("sigv4: an accepted request did not verify the same way again")
            }
        }
    }
}
