import Foundation
import Testing

/// Finding 7: an attested workload must not learn which keys exist by asking for paths it may not have. A key the
/// policy denies it and a path with no key must answer alike: status, error and body (but for the path it asked).
extension AttackSuiteTests.SimulatorMode {
    /// Checked to fail on 7009f10^ (59d0843): the missing paths answered 404 not_found, the denied ones 403.
    @Test("finding 7: to an attested caller, keys it may not have and paths with no key answer the same, by cookie or token")
    func deniedAndMissingAnswerAlike() async throws {
        let lab = try AttackLab.require()
        let client = AttackClient(server: lab.server)
        let flow = try await client.attestSimulated()
        try #require(flow.answer.status == 200, "\(flow.answer)")
        let token = try #require(flow.answer.token)
        // Denied by tier (a tier-3 key to tier-2 evidence) and by role (no identity), then two paths with nothing.
        let probes = ["demo/keys/t3", "demo/db/role", "demo/keys/absent", "nothing/at/all"]
        for (way, cookie, bearer) in [("cookie", flow.session.cookie, nil), ("token", nil, token)] as [(String, String?, String?)] {
            var shapes: Set<String> = []
            for path in probes {
                let answer = try await client.resource(path, cookie: cookie, bearer: bearer)
                #expect(answer.status == 403, "\(way) \(path): \(answer)")
                #expect(answer.code == "policy_deny", "\(way) \(path): \(answer)")
                let headers = ["content-type", "cache-control"].map { "\($0)=\(answer.headers[$0] ?? "")" }
                shapes.insert("\(answer.status) \(headers) " + answer.body.replacingOccurrences(of: path, with: "<path>"))
            }
            #expect(shapes.count == 1, "\(way): the answers differ: \(shapes)")
        }
        // The key allowed to this attestation is still released, so the refusals above are the policy's, not a fault.
        #expect(try await client.resource("demo/keys/t2", bearer: token).status == 200)
    }
}
