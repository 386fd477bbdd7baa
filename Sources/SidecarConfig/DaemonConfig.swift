import SidecarCore

/// The daemon's whole configuration (DESIGN.md 3.4). Every field has the
/// default `sidecard` uses with no file; the TOML keys have the same names
/// in snake_case, and `examples/sidecar.toml` documents each.
public struct DaemonConfig: Sendable, Equatable {
    public var socket = SidecarDefaults.socketPath
    public var stateDirectory = SidecarDefaults.stateDirectory
    public var logLevel = SidecarDefaults.logLevel
    /// "text", "logfmt" or "json"; read at start (a reload keeps the first).
    public var logFormat = "text"
    /// Permission bits of the socket file.
    public var socketMode = SidecarDefaults.socketMode
    public var adminUIDs = SidecarDefaults.adminUIDs
    public var adminGIDs: [UInt32] = []
    /// Answers the Debug service (tests and diagnostics) when true.
    public var debugMethods = false
    public var limits = Limits()
    public var images = ImagesConfig()
    public var databases = DatabasesConfig()
    public var retry = RetryConfig()
    public var leases = LeasesConfig()
    public var metrics = MetricsConfig()
    public var fleet = FleetConfig()
    public var classifyRules: [ClassificationRule] = []

    public init() {}

    public struct Limits: Sendable, Equatable {
        public var maxConnections = SidecarDefaults.maxConnections
        public var maxInflightPerConnection = SidecarDefaults.maxInflightPerConnection
        public var maxMessageBytes = SidecarDefaults.maxMessageBytes
        /// Seconds; 0 keeps idle connections open for ever.
        public var idleTimeoutSeconds = SidecarDefaults.idleTimeoutSeconds
        /// Seconds; 0 lets a frame take as long as it likes.
        public var frameTimeoutSeconds = SidecarDefaults.frameTimeoutSeconds
        public var maxBufferedBytes = SidecarDefaults.maxBufferedBytes
        public var drainTimeoutSeconds = SidecarDefaults.drainTimeoutSeconds
        public init() {}
    }

    public struct ImagesConfig: Sendable, Equatable {
        public enum Backend: String, Sendable, CaseIterable {
            case ociLayout = "oci-layout"
            case docker
            case command
        }
        public var backend = Backend.ociLayout
        /// Empty means `$DOCKER_HOST` when it is a `unix://` address, else
        /// `/var/run/docker.sock` (see `dockerSocketPath`).
        public var dockerSocket = ""
        /// Empty means `<state_dir>/oci`.
        public var ociLayout = ""
        public var maxConcurrentBuilds = 2
        public var maxConcurrentPulls = 3
        public var jobTimeoutSeconds = 1800.0
        /// A build or pull (command backend) that prints nothing for this
        /// long is stopped like a timed-out one; 0 never.
        public var jobStallTimeoutSeconds = 300.0
        public var failureBackoffSeconds = 10.0
        public var failureBackoffMaxSeconds = 300.0
        /// How long a presence check is trusted by a backend without events.
        public var presenceTTLSeconds = 5.0
        /// `Prune` removes images nobody asked for within this long.
        public var pruneUnusedAfterSeconds = 86400.0
        /// How often the daemon prunes on its own; 0 never (an operator runs
        /// `sidecarctl prune`).
        public var pruneEverySeconds = 0.0
        /// How often the daemon re-hashes every blob of every present image
        /// (damage beneath the file system raises no event); 0 never.
        public var scrubEverySeconds = 86400.0
        /// The scrub's pace, in MB (10^6 bytes) per second, so it does not
        /// crowd out the host's own disk reads.
        public var scrubMegabytesPerSecond = 50
        public var insecureRegistries: [String] = []
        public var command = CommandTemplates()
        public var images: [ImageSpec] = []
        public init() {}
    }

    /// argv templates of the command backend; `{ref}` and `{name}` are
    /// replaced as whole arguments, never through a shell.
    public struct CommandTemplates: Sendable, Equatable {
        public var exists = ["podman", "image", "exists", "{ref}"]
        public var build: [String] = []
        public var pull = ["podman", "pull", "{ref}"]
        public var remove = ["podman", "rmi", "{ref}"]
        /// Fleet builds: pushes `{ref}` to `{target}` and writes the pushed
        /// manifest's digest to the file `{digestfile}` (podman push and
        /// skopeo copy have `--digestfile`); empty: builds are not shared.
        public var push: [String] = []
        public init() {}
    }

    public struct ImageSpec: Sendable, Equatable {
        public var name: String
        public var ref: String
        public var build: [String] = []
        public var workdir = ""
        public var context = ""
        public var dockerfile = "Dockerfile"
        public var base = ""
        public var pull = ""
        public var keepWarm = false
        /// Overrides `images.job_timeout` for this image when set.
        public var jobTimeoutSeconds: Double?

        public init(name: String, ref: String) {
            self.name = name
            self.ref = ref
        }
    }

    public struct DatabasesConfig: Sendable, Equatable {
        public var roots: [String] = []
        public var streakThreshold = 10
        public var maxConcurrentChecks = 2
        /// How long a check waits for another connection's lock before BUSY.
        public var busyTimeoutSeconds = 2.0
        /// How long the loop waits for one check (or path resolution) on the
        /// thread pool before it answers BUSY and frees the check's slot; a
        /// thread stuck in the kernel (a hung NFS mount) stays stuck, but no
        /// caller waits on it.
        public var checkTimeoutSeconds = 300.0
        /// A client not heard from for this long loses its streaks.
        public var clientIdleExpirySeconds = 3600.0
        public init() {}
    }

    public struct MetricsConfig: Sendable, Equatable {
        /// Where `GET /metrics` and `GET /healthz` are served over HTTP, as
        /// a numeric address and port ("127.0.0.1:9464", "[::1]:9464"); nil:
        /// nowhere (the Metrics RPC still answers).
        public var listen: ListenAddress?
        public init() {}
    }

    public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: UInt16

        public init(host: String, port: UInt16) {
            self.host = host
            self.port = port
        }

        /// "HOST:PORT" with a numeric IPv4 host, or "[HOST]:PORT" with IPv6.
        public init?(parsing text: String) {
            let host: Substring
            let port: Substring
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
                host = text[text.index(after: text.startIndex)..<close]
                port = text[text.index(close, offsetBy: 2)...]
                guard host.contains(":") else { return nil }
            } else {
                guard let colon = text.lastIndex(of: ":") else { return nil }
                host = text[..<colon]
                port = text[text.index(after: colon)...]
                let parts = host.split(separator: ".", omittingEmptySubsequences: false)
                guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) else { return nil }
            }
            guard let number = UInt16(port), !host.isEmpty, port.allSatisfy(\.isASCII) else { return nil }
            self.host = String(host)
            self.port = number
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    public struct LeasesConfig: Sendable, Equatable {
        /// How the end of a lease's holder process is noticed.
        public enum HolderWatch: String, Sendable, CaseIterable {
            /// A pidfd per process on the loop (polling where the kernel has none).
            case pidfd
            /// /proc/PID/stat read every 500 ms.
            case poll
        }

        /// The most leases held at once; a new one past it is refused.
        public var max = 10_000
        public var holderWatch = HolderWatch.pidfd
        public init() {}
    }

    public struct RetryConfig: Sendable, Equatable {
        public var budgetPercent = 20.0
        public var minRetryConcurrency = 3
        public var keyIdleExpirySeconds = 86400.0
        /// A grant never reported on stops counting against the budget after this.
        public var attemptTimeoutSeconds = 900.0
        /// "normal": a grant survives the daemon being killed (kill -9, a
        /// crash); "full": it also survives a power cut, at one fsync per
        /// group commit (a third of the throughput on this machine).
        public var synchronous = "normal"
        /// How long the loop waits for one group commit on the thread pool:
        /// past it, the calls it holds are answered UNAVAILABLE, and so is
        /// every change until it returns (a hung disk).
        public var commitTimeoutSeconds = 30.0
        /// The most retry keys the ledger holds at once.
        public var maxKeys = 100_000
        public var policies: [String: RetryPolicy] = ["default": RetryPolicy()]
        public init() {}
    }

    public typealias RetryPolicy = SidecarCore.RetryPolicy

    /// Fleet mode (docs/fleet.md): off unless `postgres` is set. Read at
    /// start; a reload that changes it is refused.
    public struct FleetConfig: Sendable, Equatable {
        /// A libpq connection string; empty: the host keeps its own ledger.
        public var postgres = ""
        /// A file whose first line is the password (else libpq's PGPASSFILE).
        public var passwordFile = ""
        /// This host's name in the fleet; empty: the hostname.
        public var hostID = ""
        public var degradedRetry = DegradedRetry.local
        /// A call's statements unanswered after this drop the connection
        /// (and the host degrades).
        public var queryTimeoutSeconds = 2.0
        /// "HOST:PORT/PREFIX" where builds are published for the other
        /// hosts; empty: every host builds its own images.
        public var registry = ""
        /// A build claim not renewed for this long is free again (a lost
        /// host); a claim whose session ended is free at once.
        public var claimTTLSeconds = 10.0

        public enum DegradedRetry: String, Sendable, CaseIterable {
            /// Answer from this host's own ledger, marked local; merged
            /// into the fleet's on reconnect.
            case local
            /// Answer THROTTLED until the fleet is back (exact caps).
            case throttle
        }

        public var enabled: Bool { !postgres.isEmpty }
        public init() {}
    }

    /// The Docker engine's socket: the configured one, else `$DOCKER_HOST`
    /// when it names a Unix socket, else Docker's default.
    public func dockerSocketPath(environment: [String: String]) -> String {
        if !images.dockerSocket.isEmpty { return images.dockerSocket }
        if let host = environment["DOCKER_HOST"], host.hasPrefix("unix://") { return String(host.dropFirst("unix://".count)) }
        return "/var/run/docker.sock"
    }

    /// The OCI layout folder, resolved against the state directory.
    public var ociLayoutPath: String {
        images.ociLayout.isEmpty ? stateDirectory + "/oci" : images.ociLayout
    }
}
