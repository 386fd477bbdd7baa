import SidecarConfig
import SidecarCore
import SidecarLoop
import SidecarWire

/// Re-reads the config file on SIGHUP or a Reload call. A file that does not
/// load is rejected with a log line and the running config stays.
final class ConfigReloader {
    private let context: DaemonContext
    private let loop: EventLoop
    /// Told of every config that was applied, after the context has it.
    var onApplied: [(DaemonConfig) -> Void] = []

    init(context: DaemonContext, loop: EventLoop) {
        self.context = context
        self.loop = loop
    }

    /// Reads and parses the file on the thread pool (the loop never waits
    /// for the disk), then applies it on the loop and calls `done`. A file
    /// that does not load is rejected (logged, announced) before `done`.
    func reload(_ done: @escaping (Result<ReloadResponse, Error>) -> Void) {
        let path = context.configPath
        let overrides = context.overrides
        let finish = { [self] (result: Result<ReloadResponse, Error>) in
            if case .failure(let error) = result { reject(error) }
            done(result)
        }
        do {
            try ThreadPoolWork.compute(loop: loop, { Result { try ConfigLoader.load(path: path, overrides: overrides) } }, then: {
                [self] loaded in finish(loaded.flatMap(apply))
            })
        } catch {
            finish(.failure(error))
        }
    }

    private func apply(_ loaded: DaemonConfig) -> Result<ReloadResponse, Error> {
        let path = context.configPath ?? "<defaults>"
        let needsRestart = context.apply(loaded)
        for listener in onApplied { listener(context.config) }
        context.metrics.increment(.configReloads, label: "applied")
        let restartNote = needsRestart.isEmpty ? "" : "; needs a restart to change: \(needsRestart.joined(separator: ", "))"
        context.logger.info("config reloaded from \(path)\(restartNote)")
        context.events.publish(
            topic: "config.reloaded", subject: path, message: "config reloaded\(restartNote)",
            attributes: needsRestart.isEmpty ? [:] : ["needs_restart": needsRestart.joined(separator: ",")])
        return .success(ReloadResponse(configPath: path, needsRestart: needsRestart))
    }

    /// Logs and announces a config that did not load; the running one stays.
    private func reject(_ error: Error) {
        let path = context.configPath ?? "<defaults>"
        context.metrics.increment(.configReloads, label: "rejected")
        context.logger.error("config reload rejected, keeping the running config: \(error)")
        context.events.publish(topic: "config.rejected", subject: path, message: "\(error)")
    }
}

/// Carries the parsed config from the pool thread to the loop.
