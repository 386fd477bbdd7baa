import SidecarConfig
import SidecarCore
import SidecarDatabases
import SidecarImages
import SidecarLoop
import SidecarStore
import SidecarWire

/// The one place where a failure inside the daemon becomes a wire status.
enum StatusMapping {
    static func status(for error: Error) -> SidecarError {
        switch error {
        case let error as SidecarError:
            return error
        case let error as WireDecodingError:
            return SidecarError(.invalidArgument, "cannot decode the request: \(error.message)")
        case let error as ConfigError:
            return SidecarError(.invalidArgument, error.description)
        case let error as RetryLedgerError:
            switch error {
            case .emptyKey:
                return SidecarError(.invalidArgument, "the retry key must not be empty")
            case .unknownPolicy(let name, let known):
                return SidecarError(.invalidArgument, "unknown retry policy \"\(name)\" (policies: \(known.joined(separator: ", ")))")
            case .unknownKey(let key):
                return SidecarError(.notFound, "no retry key \"\(key)\"")
            case .notOwner(let refusal):
                return status(for: refusal)
            case .full(let maxKeys):
                return SidecarError(
                    .resourceExhausted,
                    "the retry ledger holds retry.max_keys (\(maxKeys)) keys; a new key is refused until idle ones expire (retry.key_idle_expiry) or are reset")
            }
        case let error as DatabaseError:
            switch error {
            case .invalidArgument(let reason):
                return SidecarError(.invalidArgument, reason)
            case .outsideRoots(let requested, let resolved, let roots):
                let rootList = roots.isEmpty ? "none are configured" : roots.joined(separator: ", ")
                // The prefix stays for clients that read the message; the
                // detail's category is what to test.
                return SidecarError(
                    .permissionDenied,
                    "OUTSIDE_ROOTS: \(requested) resolves to \(resolved), which is not under databases.roots (\(rootList))",
                    detail: FailureDetail(
                        category: DbVerdict.outsideRoots.rawValue, permanent: true,
                        remedy: "Ask for a file under databases.roots, or add its folder to databases.roots in the daemon's config."))
            case .notReadable(let path, let reason):
                return SidecarError(
                    .permissionDenied, "NOT_READABLE: \(reason): the daemon answers only about files the caller could read",
                    detail: FailureDetail(
                        category: "not_readable", permanent: true,
                        remedy: "Ask as a user or group that may read \(path) (or through its folders), or as root."))
            }
        case let error as LeaseError:
            switch error {
            case .invalid(let reason): return SidecarError(.invalidArgument, reason)
            case .unknown: return SidecarError(.notFound, error.description)
            case .full(let max):
                return SidecarError(.resourceExhausted, "\(max) leases are held (leases.max); a new one is refused until some are released or expire")
            case .holderNotRunning: return SidecarError(.failedPrecondition, error.description)
            case .notOwner(let refusal): return status(for: refusal)
            }
        case let error as NotOwnerError:
            return SidecarError(
                .permissionDenied, error.description,
                detail: FailureDetail(
                    category: "not_owner", permanent: true,
                    remedy: "Use your own key, lease or client id, or ask as an admin."))
        case let error as StoreError:
            return SidecarError(.internal, "state database: \(error.description)")
        case let error as LoopError:
            return SidecarError(.internal, error.description)
        default:
            return SidecarError(.internal, "\(error)")
        }
    }
}
