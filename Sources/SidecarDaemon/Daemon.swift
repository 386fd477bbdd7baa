import Glibc
import Logging
import SidecarConfig
import SidecarCore
import SidecarLoop
import SidecarStore

/// `sidecard` from start to exit: load the config, open the state, claim
/// the socket, serve on the loop until SIGTERM, drain, and clean up.
public enum Daemon {
    /// Runs the daemon and returns its exit code: 0 after a clean shutdown,
    /// 78 for a bad config, 1 when it cannot start.
    public static func run(configPath: String?, overrides: ConfigOverrides) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        // A daemon started from a thread that blocks signals (a dispatch
        // worker, some supervisors) inherits that mask and would never see
        // SIGTERM or SIGHUP: start from an empty one.
        var noneBlocked = sigset_t()
        sigemptyset(&noneBlocked)
        sigprocmask(SIG_SETMASK, &noneBlocked, nil)
        let config: DaemonConfig
        do {
            config = try ConfigLoader.load(path: configPath, overrides: overrides)
        } catch {
            StandardError.write("sidecard: \(error)\n")
            return SidecarExitCode.config.rawValue
        }
        var logger = DaemonLog.makeLogger(level: config.logLevel, format: config.logFormat)
        logger[metadataKey: "pid"] = "\(getpid())"

        let database: Database
        // With socket activation systemd owns the socket file and starts one
        // daemon per socket: there is nothing to claim.
        let activated = SocketActivation.inheritedListener()
        let claim: SocketClaim?
        do {
            try Directories.create(config.stateDirectory, mode: 0o700)
            database = try StateSchema.open(stateDirectory: config.stateDirectory)
            claim = activated == nil ? try SocketClaim.claim(config.socket) : nil
        } catch {
            logger.critical("cannot start: \(error)")
            return SidecarExitCode.no.rawValue
        }
        defer {
            database.close()
            claim?.release()
        }

        do {
            try serve(
                config: config, configPath: configPath, overrides: overrides, logger: logger, database: database,
                activated: activated)
        } catch {
            logger.critical("cannot serve on \(config.socket): \(error)")
            return SidecarExitCode.no.rawValue
        }
        logger.info("sidecard stopped")
        return SidecarExitCode.ok.rawValue
    }

    private static func serve(
        config: DaemonConfig, configPath: String?, overrides: ConfigOverrides, logger: Logger, database: Database,
        activated: Int32?
    ) throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let context = DaemonContext(
            config: config, configPath: configPath, overrides: overrides, logger: logger, state: database)
        let server = Server(loop: loop, context: context)
        let reloader = ConfigReloader(context: context, loop: loop)
        let retryStore = try RetryLedgerStore(
            stateDirectory: config.stateDirectory, synchronous: Database.Synchronous(rawValue: config.retry.synchronous) ?? .full)
        defer { retryStore.close() }
        let fleet = try FleetService.make(loop: loop, context: context)
        let retries = try RetryService(loop: loop, context: context, store: retryStore, fleet: fleet)
        server.turnEndWork.append { retries.commitPending() }
        let databases = DatabaseService(loop: loop, context: context)
        let images = try ImageService(loop: loop, context: context, fleet: fleet)
        let status = DaemonStatus(server: server, images: images, retries: retries, fleet: fleet)
        server.turnEndWork.append { status.turnEnded() }
        let metricsEndpoint = MetricsEndpoint(loop: loop, server: server, status: status)
        let services: [DaemonService] = (fleet.map { [$0] } ?? []) + [retries, databases, images, metricsEndpoint]
        reloader.onApplied.append { config in
            for service in services { service.configure(config) }
        }
        server.router.install(ServiceRoutes.table(
            status: status, reloader: reloader, retries: retries, databases: databases, images: images))
        let lagProbe = try LoopLagProbe(loop: loop)
        server.lagProbe = lagProbe
        let busyMeter = try LoopBusyMeter(loop: loop)
        server.busyMeter = busyMeter
        try server.start(socketPath: config.socket, mode: config.socketMode, inheritedDescriptor: activated)

        var watchers: [SignalWatcher] = []
        func stopWatching() {
            for watcher in watchers { watcher.close() }
            lagProbe.close()
            busyMeter.close()
            for service in services { service.close() }
            exitPastStuckPoolWork(loop: loop, logger: context.logger)
        }
        let shutdown = { (name: String) in
            guard server.state == .serving else {
                context.logger.warning("\(name) again while draining: exiting now")
                stopWatching()
                loop.stop()
                return
            }
            context.logger.info("\(name): shutting down")
            SystemdNotify.send("STOPPING=1")
            server.drain { stopWatching() }
        }
        watchers.append(try SignalWatcher(loop: loop, signal: SIGTERM) { shutdown("SIGTERM") })
        watchers.append(try SignalWatcher(loop: loop, signal: SIGINT) { shutdown("SIGINT") })
        watchers.append(try SignalWatcher(loop: loop, signal: SIGHUP) {
            context.logger.info("SIGHUP: reloading \(configPath ?? "the embedded defaults")")
            reloader.reload { _ in }
        })

        // Before readiness, so that what is ready includes /metrics: the
        // socket already queues connections, and none is read before the
        // loop runs.
        for service in services { try service.start() }
        context.logger.info(
            "sidecard \(SidecarDefaults.version) serving on \(config.socket)\(activated == nil ? "" : " (socket from systemd)") (state \(config.stateDirectory), config \(configPath ?? "embedded defaults"))"
        )
        SystemdNotify.send("READY=1")
        loop.run()
    }
}

/// A pool thread stuck in the kernel (a hung mount) would keep the loop,
/// and so the process, alive for ever after the drain: past a grace period
/// the daemon exits without it. What it acknowledged is already durable.
private func exitPastStuckPoolWork(loop: EventLoop, logger: Logger, graceMilliseconds: UInt64 = 2000) {
    guard loop.poolWorkInFlight > 0, let timer = try? LoopTimer(loop: loop) else { return }
    // Unreferenced: work that ends in time lets the loop end on its own.
    timer.unref()
    let deadline = loop.nowMilliseconds + graceMilliseconds
    timer.start(after: 50, repeat: 50) {
        guard loop.poolWorkInFlight > 0, loop.nowMilliseconds >= deadline else { return }
        logger.warning("\(loop.poolWorkInFlight) pieces of thread-pool work still run \(graceMilliseconds) ms after the drain (stuck threads): exiting without them")
        _exit(0)
    }
}

/// Writes to fd 2 directly: Swift 6 rejects the global `stderr` stream.
enum StandardError {
    static func write(_ text: String) {
        _ = text.withCString { Glibc.write(2, $0, strlen($0)) }
    }
}
