import SidecarCore

/// Why a hook stops with a non-zero status; `exitCode` is what it exits
/// with (documented in docs/hooks/README.md).
enum HookFailure: Error {
    /// The input is not what a runtime gives a hook: an unknown stage, no
    /// state, not JSON, too large, no EOF in time, a malformed annotation.
    case badInput(String)
    /// A database the container was to open is really damaged.
    case corruptDatabase(String)
    /// The daemon could not do what the annotations ask, and
    /// sidecar.required=true says the container must not start without it.
    case required(String, SidecarExitCode)

    var exitCode: SidecarExitCode {
        switch self {
        case .badInput: .usage
        case .corruptDatabase: .dataError
        case .required(_, let code): code
        }
    }

    var message: String {
        switch self {
        case .badInput(let text), .corruptDatabase(let text), .required(let text, _): text
        }
    }
}
