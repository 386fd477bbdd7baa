import Logging
import SidecarConfig
import SidecarCore
import SidecarLoop
import SidecarStore

/// What the handlers share: the running config and what is derived from it,
/// the logger, metrics, events and the state database. Loop thread only;
/// a reload replaces `config` and `classifier` together.
final class DaemonContext {
    private(set) var config: DaemonConfig
    /// Counts the configs applied, so what is derived from one (a
    /// connection's caller, whose admin status the config decides) knows
    /// when it is stale.
    private(set) var configGeneration = 0
    private(set) var classifier: ErrorClassifier {
        didSet { classifyTable = ClassifyTable(classifier) }
    }
    /// The classifier with its answers encoded, for the Classify method.
    private(set) var classifyTable: ClassifyTable
    var logger: Logger
    let configPath: String?
    let overrides: ConfigOverrides
    let metrics = MetricsRegistry()
    let events = EventBus()
    let state: Database
    let startNanoseconds = EventLoop.monotonicNanoseconds()

    init(config: DaemonConfig, configPath: String?, overrides: ConfigOverrides, logger: Logger, state: Database) {
        self.config = config
        self.configPath = configPath
        self.overrides = overrides
        self.logger = logger
        self.state = state
        classifier = ErrorClassifier(configRules: config.classifyRules)
        classifyTable = ClassifyTable(classifier)
    }

    /// Uptime from the loop's time of this turn (milliseconds), which costs
    /// no clock read.
    func uptimeSeconds(loopMilliseconds: UInt64) -> Double {
        let startMilliseconds = startNanoseconds / 1_000_000
        return loopMilliseconds > startMilliseconds ? Double(loopMilliseconds - startMilliseconds) / 1000 : 0
    }

    /// Applies a new config. What only a restart can change (the socket, the
    /// state directory, the socket's mode) keeps its running value and is
    /// returned by name.
    func apply(_ new: DaemonConfig) -> [String] {
        var next = new
        var needsRestart: [String] = []
        if next.socket != config.socket {
            needsRestart.append("socket")
            next.socket = config.socket
        }
        if next.stateDirectory != config.stateDirectory {
            needsRestart.append("state_dir")
            next.stateDirectory = config.stateDirectory
        }
        if next.retry.synchronous != config.retry.synchronous {
            needsRestart.append("retry.synchronous")
            next.retry.synchronous = config.retry.synchronous
        }
        if next.images.backend != config.images.backend {
            needsRestart.append("images.backend")
            next.images.backend = config.images.backend
        }
        if next.leases.holderWatch != config.leases.holderWatch {
            needsRestart.append("leases.holder_watch")
            next.leases.holderWatch = config.leases.holderWatch
        }
        if next.socketMode != config.socketMode {
            needsRestart.append("socket_mode")
            next.socketMode = config.socketMode
        }
        config = next
        configGeneration += 1
        classifier = ErrorClassifier(configRules: next.classifyRules)
        logger.logLevel = DaemonLog.level(next.logLevel)
        return needsRestart
    }
}
