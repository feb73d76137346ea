import Foundation
import KBSEvidence
import Testing

@testable import KBSPolicyTesting

/// The default tier rules with data an operator supplies: tier 4 keys on the signed `sys_enable_status` value.
struct TierRulesTests {
    /// A copy of `Policies/default/tiers` whose `tee_io_status.json` lists `values`, and a case file for it.
    static func bundle(teeIO values: [String], cases: String) throws -> (bundle: String, cases: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-tiers-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Repository.path("Policies/default/tiers/tiers.policy"), toPath: directory + "/tiers.policy")
        let list = "[" + values.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        try list.write(toFile: directory + "/tee_io_status.json", atomically: true, encoding: .utf8)
        let path = directory + "/cases.json"
        try cases.write(toFile: path, atomically: true, encoding: .utf8)
        return (directory, path)
    }

    /// A CPU TEE with one Blackwell GPU reporting `status`, expecting `tier`.
    static func blackwellCase(_ name: String, status: String, tier: Int, rules: [String]) -> String {
        let device =
            #"{"arch":"BLACKWELL","nonce":"00","certificate":"GB100 A01 GSP FMC LF","fwid_checked":true,"measurement_count":1,"measurements":["11"],"rim_checked":false,"rim_versions":[],"rim_indices_checked":0,"debug":true,"sys_enable_status":"\#(status)"}"#
        let gpu =
            #"{"kind":"nvidia","measurement":"11","debug":true,"tcb_svn":0,"nvidia":{"arch":"BLACKWELL","device_count":1,"rims_configured":false,"devices":[\#(device)]}}"#
        let rulesJSON = "[" + rules.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        return
            #"{"name":"\#(name)","input":{"evidence":{"kind":"tdx","measurement":"ab","debug":false,"tcb_svn":9},"devices":[\#(gpu)]},"expect":"permit","rules":\#(rulesJSON),"obligations":{"tier":\#(tier)}}"#
    }

    @Test func teeIOIsTheListedSignedValueNotThePresenceOfTheField() throws {
        let cases =
            #"{"cases":["#
            + [
                Self.blackwellCase("a listed value reaches tier 4", status: "0707", tier: 4, rules: ["tier_4", "tier_2", "tier_1"]),
                Self.blackwellCase("another value stays at tier 2", status: "0001", tier: 2, rules: ["tier_2", "tier_1"]),
            ].joined(separator: ",") + "]}"
        let (bundle, file) = try Self.bundle(teeIO: ["0707"], cases: cases)
        defer { try? FileManager.default.removeItem(atPath: bundle) }
        let report = PolicyTestRunner(registry: evidenceRegistry).run(bundle: bundle, caseFiles: [file])
        for problem in report.problems { Issue.record("\(problem)") }
        for result in report.results where !result.passed { Issue.record("\(result.name): \(result.failure!)") }
        #expect(report.passed == 2)
        #expect(report.failed == 0)
    }
}
