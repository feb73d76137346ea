import CProcessControl
import Foundation
import HTTPTypes

/// Keeps the server's memory, which holds unwrapped keys, out of core files and away from debuggers of the same user.
package enum ProcessHardening {
    /// What the kernel reports once core dumps are off.
    package struct State: Sendable, Equatable {
        /// The soft RLIMIT_CORE in bytes.
        package let coreFileLimit: Int64
        /// PR_GET_DUMPABLE.
        package let dumpable: Int32
    }

    /// Sets RLIMIT_CORE to 0 (soft and hard) and PR_SET_DUMPABLE to 0, then reads both back: throws `hardening` unless
    /// both hold, so a server never runs believing it is protected when it is not.
    package static func disableCoreDumps() throws(ServerError) -> State {
        guard kbs_disable_core_files() == 0 else {
            throw ServerError(.internalServerError, "hardening", "cannot set RLIMIT_CORE to 0: \(String(cString: strerror(errno)))")
        }
        guard kbs_set_dumpable(0) == 0 else {
            throw ServerError(.internalServerError, "hardening", "cannot clear PR_SET_DUMPABLE: \(String(cString: strerror(errno)))")
        }
        let state = State(coreFileLimit: kbs_core_file_limit(), dumpable: kbs_dumpable())
        guard state.coreFileLimit == 0, state.dumpable == 0 else {
            throw ServerError(
                .internalServerError, "hardening",
                "core dumps are still possible (RLIMIT_CORE \(state.coreFileLimit), dumpable \(state.dumpable))")
        }
        return state
    }
}
