import Testing

/// Issue 15's attack suite: each numbered finding of the hardening review, tried as an attacker would try it, over
/// HTTP against a real `kbs serve` (and, for finding 9, its files and process as the operating system sees them).
///
/// The attacks live beside the findings they regress, one file each (`AttackSuiteTests+<Finding>.swift`); each test
/// names its finding and the commit it was checked to fail on, `FIX^`: the suite was run against a `kbs` built with
/// that fix's source and policy hunks reverted on this branch (the tests drive only the binary, so that reproduces the
/// commit before for the behaviour tested), and each test failed on its own assertions. The servers are shared per
/// sub-suite:
///
/// - ``SimulatorMode``: `TEE_MODE=simulator`, where the simulator CA signs honest evidence for the attacks to bend
///   (findings 1, 2, 3, 4, 5, 7);
/// - ``HardwareMode``: a hardware-mode server with operator-added anchors, loose pre-existing files and a rate limit
///   (findings 1, 3, 8, 9);
/// - ``KeyService``: a master key in a (local stand-in for) Infisical's KMS, to see which requests reach it (finding 6).
@Suite(.serialized, .enabled(if: ServerProcess.binary != nil, "needs the kbs binary"))
struct AttackSuiteTests {
    @Suite(.simulatorLab) struct SimulatorMode {}

    @Suite(.hardwareLab) struct HardwareMode {}

    @Suite(.enabled(if: TestVenv.available, "needs .venv-test for Tools/infisical-local")) struct KeyService {}
}
