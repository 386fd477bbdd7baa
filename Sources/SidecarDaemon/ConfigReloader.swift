import SidecarConfig
import SidecarCore
import SidecarWire

/// Re-reads the config file on SIGHUP or a Reload call. A file that does not
/// load is rejected with a log line and the running config stays.
final class ConfigReloader {
    private let context: DaemonContext
    /// Told of every config that was applied, after the context has it.
    var onApplied: [(DaemonConfig) -> Void] = []

    init(context: DaemonContext) {
        self.context = context
    }

    func reload() throws -> ReloadResponse {
        let path = context.configPath ?? "<defaults>"
        let loaded: DaemonConfig
        do {
            loaded = try ConfigLoader.load(path: context.configPath, overrides: context.overrides)
        } catch let error as ConfigError {
            context.metrics.increment("sidecar_config_reloads_total", label: "rejected")
            context.logger.error("config reload rejected, keeping the running config: \(error)")
            context.events.publish(topic: "config.rejected", subject: path, message: error.description)
            throw error
        }
        let needsRestart = context.apply(loaded)
        for listener in onApplied { listener(context.config) }
        context.metrics.increment("sidecar_config_reloads_total", label: "applied")
        let restartNote = needsRestart.isEmpty ? "" : "; needs a restart to change: \(needsRestart.joined(separator: ", "))"
        context.logger.info("config reloaded from \(path)\(restartNote)")
        context.events.publish(
            topic: "config.reloaded", subject: path, message: "config reloaded\(restartNote)",
            attributes: needsRestart.isEmpty ? [:] : ["needs_restart": needsRestart.joined(separator: ",")])
        return ReloadResponse(configPath: path, needsRestart: needsRestart)
    }
}
