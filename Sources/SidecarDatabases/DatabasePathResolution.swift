import SidecarCore

/// Where a client's database path really points (symlinks and ".." resolved
/// before the roots are checked), found by the check runner off the loop.
public enum DatabasePathResolution: Sendable, Equatable {
    /// `root`: the configured root (resolved) that holds it.
    /// `access`: who may read it, for the caller's own check.
    case inside(resolved: String, root: String, fingerprint: FileFingerprint?, isDirectory: Bool, access: PathAccess)
    case outside(resolved: String, roots: [String])
    /// Its links lead to a name that is not UTF-8: no file is named.
    case notUTF8
    /// The runner could not resolve it now (its work is stuck): BUSY.
    case unavailable(String)
}
