#if canImport(Glibc)
import Glibc
#endif

/// Every default of Sidecar in one place, shared by the daemon, the client
/// library and the CLI, so that `sidecard` and `sidecarctl` with no
/// arguments meet on the same socket.
public enum SidecarDefaults {
    public static let version = "0.1.0"
    public static let protocolVersion: UInt32 = 1

    /// Overrides the default socket path for the daemon, the client and the CLI.
    public static let socketEnvironmentVariable = "SIDECAR_SOCKET"

    /// `/run/sidecar/sidecar.sock` for root, `$XDG_RUNTIME_DIR/sidecar.sock`
    /// for others, and a per-user folder in /tmp when neither applies;
    /// `$SIDECAR_SOCKET` wins over all of them.
    public static var socketPath: String {
        if let explicit = environment(socketEnvironmentVariable), !explicit.isEmpty { return explicit }
        if geteuid() == 0 { return systemSocketPath }
        if let runtime = environment("XDG_RUNTIME_DIR"), !runtime.isEmpty { return runtime + "/sidecar.sock" }
        return "/tmp/sidecar-\(geteuid())/sidecar.sock"
    }

    /// The system daemon's socket, which a client prefers when it exists.
    public static let systemSocketPath = "/run/sidecar/sidecar.sock"

    /// The socket a client uses when it is given none, and every path the
    /// rule looked at (for the error when nothing answers): `$SIDECAR_SOCKET`;
    /// else the system daemon's socket when it exists, whoever runs the
    /// client (a runner in the socket's group reaches the host's daemon, as
    /// Docker's clients do); else the per-user socket a non-root daemon uses.
    public static var clientSocket: (path: String, looked: [String]) {
        if let explicit = environment(socketEnvironmentVariable), !explicit.isEmpty { return (explicit, [explicit]) }
        if access(systemSocketPath, F_OK) == 0 { return (systemSocketPath, [systemSocketPath]) }
        let own = socketPath
        return (own, own == systemSocketPath ? [own] : [systemSocketPath, own])
    }

    /// `/var/lib/sidecar` for root, `$XDG_STATE_HOME/sidecar` or
    /// `~/.local/state/sidecar` for others.
    public static var stateDirectory: String {
        if geteuid() == 0 { return "/var/lib/sidecar" }
        if let state = environment("XDG_STATE_HOME"), !state.isEmpty { return state + "/sidecar" }
        if let home = environment("HOME"), !home.isEmpty { return home + "/.local/state/sidecar" }
        return "/tmp/sidecar-\(geteuid())/state"
    }

    public static let logLevel = "info"
    public static let socketMode: UInt32 = 0o660
    public static let adminUIDs: [UInt32] = [0]

    public static let maxConnections = 1024
    public static let maxInflightPerConnection = 256
    public static let maxMessageBytes = 4 * 1024 * 1024
    public static let idleTimeoutSeconds = 300.0
    /// How long a frame may take to arrive once its first byte has: a
    /// client that trickles bytes holds a connection and a buffer.
    public static let frameTimeoutSeconds = 10.0
    /// The most all connections together may hold in frames not yet whole.
    public static let maxBufferedBytes = 256 * 1024 * 1024
    /// How long SIGTERM waits for calls in flight before closing anyway.
    public static let drainTimeoutSeconds = 30.0

    /// How many problems CheckDb reports when the caller gives no limit.
    public static let dbCheckMaxErrors = 10
    /// A lease's TTL when the caller gives none (EnsureImage with a holder,
    /// `sidecarctl lease acquire`).
    public static let leaseTTLSeconds: UInt32 = 600

    /// How long a client keeps trying to connect when the socket is not
    /// there yet or refuses, which covers a daemon that is still starting.
    public static let clientConnectRetrySeconds = 1.5

    private static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }
}
