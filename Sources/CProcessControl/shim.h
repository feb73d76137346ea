// prctl(2) is variadic, which Swift does not import: fixed-argument wrappers for the calls `kbs serve` makes to keep
// key material out of core files. Nothing to link: glibc has both calls.
#include <sys/prctl.h>
#include <sys/resource.h>

/// Sets RLIMIT_CORE to 0, soft and hard (a process can lower its hard limit but, unprivileged, not raise it again).
static inline int kbs_disable_core_files(void) {
    struct rlimit none = {0, 0};
    return setrlimit(RLIMIT_CORE, &none);
}

/// The soft RLIMIT_CORE, or -1 when it cannot be read.
static inline long long kbs_core_file_limit(void) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_CORE, &limit) != 0) return -1;
    return limit.rlim_cur == RLIM_INFINITY ? -2 : (long long)limit.rlim_cur;
}

/// PR_SET_DUMPABLE: 0 also keeps other processes of the same user from ptrace-attaching or reading /proc/PID/mem.
static inline int kbs_set_dumpable(int dumpable) { return prctl(PR_SET_DUMPABLE, (unsigned long)dumpable, 0UL, 0UL, 0UL); }

/// PR_GET_DUMPABLE: 0, 1 or 2, or -1 on error.
static inline int kbs_dumpable(void) { return prctl(PR_GET_DUMPABLE, 0UL, 0UL, 0UL, 0UL); }
