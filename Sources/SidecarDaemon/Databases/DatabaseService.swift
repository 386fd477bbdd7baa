import SidecarConfig
import SidecarCore
import SidecarDatabases
import SidecarLoop

/// CheckDb and ReportDbError on the daemon: the coordinator's rules over
/// the thread pool, its events on the bus, its outcomes in the metrics.
final class DatabaseService: DaemonService {
    let coordinator: DatabaseCoordinator
    private let runner: PoolCheckRunner
    private let loop: EventLoop
    private let context: DaemonContext
    private var sweepTimer: LoopTimer?

    init(loop: EventLoop, context: DaemonContext) {
        self.loop = loop
        self.context = context
        runner = PoolCheckRunner(loop: loop, timeoutSeconds: context.config.databases.checkTimeoutSeconds)
        coordinator = DatabaseCoordinator(
            settings: context.config.databases, classifier: context.classifier, runner: runner,
            clock: WallClock.unixSeconds)
        coordinator.onEvent = { [unowned context] event in
            context.events.publish(topic: event.topic, subject: event.subject, message: event.message, attributes: event.attributes)
        }
        coordinator.onCheckOutcome = { [unowned context] outcome in context.metrics.increment(.dbChecks, label: outcome) }
    }

    func start() throws {
        let timer = try LoopTimer(loop: loop)
        timer.unref()
        timer.start(after: 60_000, repeat: 60_000) { [unowned self] in coordinator.forgetIdleClients() }
        sweepTimer = timer
    }

    /// Checks past `databases.check_timeout` whose threads have not returned.
    var stuckChecks: Int { runner.stuck }

    func configure(_ config: DaemonConfig) {
        runner.timeoutSeconds = config.databases.checkTimeoutSeconds
        coordinator.configure(config.databases, classifier: context.classifier)
    }

    func close() {
        sweepTimer?.close()
        sweepTimer = nil
    }
}
