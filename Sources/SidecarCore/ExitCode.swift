/// Process exit codes of `sidecarctl` and `sidecard` (DESIGN.md 3.3), so
/// that shell hooks can act on them. Values follow sysexits.h.
public enum SidecarExitCode: Int32, Sendable {
    case ok = 0
    /// The answer is no: permanent failure, retry cap exhausted.
    case no = 1
    case usage = 64  // EX_USAGE
    /// The database is corrupt for real.
    case dataError = 65  // EX_DATAERR
    /// The sidecar cannot be reached.
    case unavailable = 69  // EX_UNAVAILABLE
    /// Temporary: try again later.
    case tempFail = 75  // EX_TEMPFAIL
    case noPermission = 77  // EX_NOPERM
    /// Configuration error (daemon).
    case config = 78  // EX_CONFIG
}
