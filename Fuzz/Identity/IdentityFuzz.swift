// libFuzzer entry for the identity credential verifiers (KBSIdentity): one binary, one credential kind per run.
//
// A SwiftPM executable target that exists only when KBS_FUZZ is set (see the end of Package.swift). Tools/fuzz builds
// it with `--sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address` (why both: see Tools/fuzz) into
// .build-fuzz-identity/ and runs it through the links
// `.build-fuzz-identity/fuzz-<target>`: the program name picks the target (`fuzz-jwt`, `fuzz-siwe`, …), or
// KBS_FUZZ_TARGET=<target> does. Each target lives in its own file (JWTFuzz.swift, JWTClaimsFuzz.swift, SIWEFuzz.swift,
// SIWEMessageFuzz.swift, SAMLFuzz.swift, EIP712Fuzz.swift, DIDFuzz.swift, HTTPSignatureFuzz.swift, APIKeyFuzz.swift)
// and is listed in `identityFuzzTargets` below.
//
// Every target drives the public path, `VerifierFactory.make` then `verify(_:at:)`, configured from its kind's fixture
// manifest (Fixtures/identity/<kind>/manifest.json: its `options` and its `now`), so the fixtures' valid credentials
// pass and mutations of them reach the signature and claim checks. `jwt-claims` and `siwe-message` take the part after
// the signature check as input and sign it themselves with a key the verifier trusts, since a fuzzer cannot forge the
// fixture keys' signatures. `eip712`, `did`, `httpsig` and `apikey` build their verifier as the server does (the login
// and request-credential paths: `TypedDataVerifier(address: nil, …)`, `DIDJWSVerifier(…, fetcher: nil)`,
// `HTTPSignatureVerifier(keys:)`, `APIKeys` over an in-memory lookup), with their kind's fixture time and trust
// values. Invariants checked on every input, for every target:
//  - nothing traps (ASan and Swift runtime traps are crashes);
//  - an accepted credential yields a principal of this kind with a non-empty subject and issuer, verified at the time
//    given, whose JSON rendering parses back with the same subject;
//  - a refusal (always an IdentityError: `verify` throws typed) has a message and never blames the configuration
//    (`configuration` is for trust options, which the input cannot change), and never quotes the whole credential.
// Each kind's file adds its own checks on accepted credentials.
import Dispatch
import Foundation
import KBSClaims
import KBSIdentity

/// The targets this binary fuzzes, by the name Tools/fuzz and KBS_FUZZ_TARGET use. Each entry builds the target's
/// verifiers once and returns the per-input check.
let identityFuzzTargets: [(name: String, make: @Sendable () -> IdentityFuzzCheck)] = [
    ("jwt", makeJWTFuzzCheck),
    ("jwt-claims", makeJWTClaimsFuzzCheck),
    ("siwe", makeSIWEFuzzCheck),
    ("siwe-message", makeSIWEMessageFuzzCheck),
    ("saml", makeSAMLFuzzCheck),
    ("eip712", makeEIP712FuzzCheck),
    ("did", makeDIDFuzzCheck),
    ("httpsig", makeHTTPSignatureFuzzCheck),
    ("apikey", makeAPIKeyFuzzCheck),
    ("sigv4", makeSigV4FuzzCheck),
]

/// Checks one input: verifies it and traps when an invariant does not hold.
typealias IdentityFuzzCheck = @Sendable ([UInt8]) -> Void

/// The target picked for this process, built before the first input.
private let selectedCheck: IdentityFuzzCheck = {
    let programName = (CommandLine.arguments.first ?? "").split(separator: "/").last.map(String.init) ?? ""
    let fromProgramName = programName.hasPrefix("fuzz-") ? String(programName.dropFirst("fuzz-".count)) : nil
    guard let name = ProcessInfo.processInfo.environment["KBS_FUZZ_TARGET"] ?? fromProgramName else {
        fuzzSetupFailure(
            "set KBS_FUZZ_TARGET to one of \(identityFuzzTargets.map(\.name).joined(separator: ", ")), "
                + "or run the binary through a link named fuzz-<target>")
    }
    guard let target = identityFuzzTargets.first(where: { $0.name == name }) else {
        fuzzSetupFailure("unknown target `\(name)`; targets: \(identityFuzzTargets.map(\.name).joined(separator: ", "))")
    }
    return target.make()
}()

/// Builds the verifiers before fuzzing starts, so a setup problem stops the run at once (rather than after the first
/// input) and one-time allocations are not charged to the first input by libFuzzer's leak check.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    _ = selectedCheck
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIdentity(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    selectedCheck(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// Traps with `message` unless `condition` holds. Unlike `precondition`, whose message `-O` drops, the message is
/// printed (and so is in the libFuzzer log next to the backtrace).
func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fuzzFailure(message()) }
}

/// Traps with `message`: an invariant does not hold.
func fuzzFailure(_ message: String) -> Never {
    fatalError("fuzz invariant: \(message)")
}

/// Stops the process before fuzzing with a message (exit status 2; not a crash, so libFuzzer writes no artifact).
func fuzzSetupFailure(_ message: String) -> Never {
    FileHandle.standardError.write(Data("fuzz-identity: \(message)\n".utf8))
    exit(2)
}

// MARK: Fixtures

/// A kind's fixture folder: where its files are, the time its cases are checked at and its trust options.
struct IdentityFixtures: Sendable {
    /// `Fixtures/identity/<kind>`, relative to the working directory (Tools/fuzz runs from the repository root).
    var directory: String
    /// The manifest's `now`.
    var now: Date
    /// The manifest's `options`, as `VerifierFactory` takes them (`true`/`false` for flags; `null` members dropped).
    var options: [String: String]

    /// Reads `Fixtures/identity/<kind>/manifest.json` (the folder can be moved with KBS_FUZZ_FIXTURES).
    static func load(_ kind: String) -> IdentityFixtures {
        let root = ProcessInfo.processInfo.environment["KBS_FUZZ_FIXTURES"] ?? "Fixtures/identity"
        let directory = root + "/" + kind
        let path = directory + "/manifest.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            fuzzSetupFailure("cannot read \(path) (run from the repository root, or set KBS_FUZZ_FIXTURES)")
        }
        guard let manifest = try? JSONNode.parse(Array(data)), let nowText = manifest["now"]?.stringValue,
            case .object(let options)? = manifest["options"]?.value
        else { fuzzSetupFailure("\(path) has no `now` and `options`") }
        guard let nanos = Timestamp.nanoseconds(fromRFC3339: nowText) else { fuzzSetupFailure("\(path): `now` is not an RFC 3339 time") }
        let now = Date(timeIntervalSince1970: TimeInterval(nanos / 1_000_000_000))
        var strings: [String: String] = [:]
        for (name, value) in options {
            switch value.value {
            case .string(let text): strings[name] = text
            case .bool(let flag): strings[name] = flag ? "true" : "false"
            case .number(_, let text): strings[name] = text
            case .null: break
            case .array, .object: fuzzSetupFailure("\(path): option `\(name)` is \(value.kindName)")
            }
        }
        return IdentityFixtures(directory: directory, now: now, options: strings)
    }

    /// A verifier of `kind` with `options` (file options resolved against the fixture folder); traps on a
    /// configuration error, which is a harness bug or a missing fixture, not a finding.
    func verifier(_ kind: CredentialKind, _ options: [String: String], replay: any ReplayCache = MemoryReplayCache()) -> any CredentialVerifier {
        do throws(IdentityError) {
            return try VerifierFactory.make(kind: kind, options: options, directory: directory, replay: replay)
        } catch {
            fuzzSetupFailure("cannot make a \(kind.rawValue) verifier from \(directory)/manifest.json: \(error)")
        }
    }
}

// MARK: Verifying

/// Where the verifying task leaves its outcome; the semaphore orders the write before the read.
private final class OutcomeBox: @unchecked Sendable {
    var outcome: Result<Principal, IdentityError>?
}

/// `verifier.verify(credential, at: time)`, waited for on the calling (libFuzzer's) thread.
///
/// `verify` is async (the JWT key cache is an actor), so it runs in a task on the cooperative pool while this
/// thread, which is not one of the pool's, blocks on a semaphore.
func verifySynchronously(_ verifier: any CredentialVerifier, _ credential: [UInt8], at time: Date) -> Result<Principal, IdentityError> {
    let box = OutcomeBox()
    let done = DispatchSemaphore(value: 0)
    Task {
        do throws(IdentityError) {
            box.outcome = .success(try await verifier.verify(credential, at: time))
        } catch {
            box.outcome = .failure(error)
        }
        done.signal()
    }
    done.wait()
    return box.outcome!
}

/// Checks the invariants every kind shares (see the top of this file); returns the principal when accepted.
@discardableResult
func checkOutcome(_ outcome: Result<Principal, IdentityError>, of credential: [UInt8], kind: CredentialKind, at time: Date) -> Principal? {
    switch outcome {
    case .success(let principal):
        fuzzCheck(!principal.subject.isEmpty, "\(kind.rawValue): accepted with an empty subject")
        fuzzCheck(!principal.issuer.isEmpty, "\(kind.rawValue): accepted with an empty issuer")
        fuzzCheck(principal.method == kind, "\(kind.rawValue): accepted as method \(principal.method.rawValue)")
        fuzzCheck(principal.verifiedAt == time, "\(kind.rawValue): verifiedAt \(principal.verifiedAt) is not the time given, \(time)")
        let json = principal.json
        guard let node = try? JSONNode.parse(Array(json.utf8)), node["subject"]?.stringValue == principal.subject,
            node["method"]?.stringValue == kind.methodName
        else { fuzzFailure("\(kind.rawValue): Principal.json does not parse back to the same subject: \(json)") }
        return principal
    case .failure(let error):
        fuzzCheck(error.reason != .configuration, "\(kind.rawValue): the credential was refused as a configuration error: \(error)")
        fuzzCheck(!error.message.isEmpty, "\(kind.rawValue): refused (\(error.reason.rawValue)) without a message")
        // Compared as bytes: Foundation's `contains` on Linux stops at a NUL, so "1\0\0…" would "match" any "1".
        if credential.count >= 64, error.message.utf8.count >= credential.count,
            contains(Array(error.message.utf8), credential)
        {
            fuzzFailure("\(kind.rawValue): the \(error.reason.rawValue) error quotes the whole credential")
        }
        return nil
    }
}

/// The strings of a list-of-strings attribute (`aud`, `covered`); nil when `value` is anything else.
func fuzzStrings(_ value: ClaimValue?) -> [String]? {
    guard case .list(let items)? = value else { return nil }
    let strings = items.compactMap { item -> String? in
        guard case .string(let text) = item else { return nil }
        return text
    }
    return strings.count == items.count ? strings : nil
}

/// Whether `needle` occurs in `haystack` as a run of bytes.
private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, haystack.count >= needle.count else { return needle.isEmpty }
    return (0...(haystack.count - needle.count)).contains { start in haystack[start..<start + needle.count].elementsEqual(needle) }
}
