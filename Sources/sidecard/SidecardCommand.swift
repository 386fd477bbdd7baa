import ArgumentParser
import SidecarConfig
import SidecarCore
import SidecarDaemon

/// `sidecard`: the per-host daemon. Flags override the keys of the same name
/// in the config file; with neither, the embedded defaults apply.
@main
struct SidecardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sidecard",
        abstract: "Sidecar daemon: images, SQLite verdicts and retry slots for agent runners, over a Unix socket.",
        discussion: """
            Exit codes: 0 after a clean shutdown (SIGTERM drains calls in flight), 1 when it cannot \
            start (socket in use, state directory unusable), 78 for a bad config. SIGHUP reloads the \
            config; a bad one is rejected and the running one kept.
            """,
        version: SidecarDefaults.version)

    @Option(name: .customLong("config"), help: "TOML config file (default: none, the embedded defaults).")
    var configPath: String?

    @Option(help: "Unix socket to serve on (config key `socket`; default \(SidecarDefaults.socketPath)).")
    var socket: String?

    @Option(
        name: .customLong("state-dir"),
        help: "Folder for the state database (config key `state_dir`; default \(SidecarDefaults.stateDirectory)).")
    var stateDirectory: String?

    @Option(
        name: .customLong("log-level"),
        help: "trace, debug, info, notice, warning, error or critical (config key `log_level`; default \(SidecarDefaults.logLevel)).")
    var logLevel: String?

    @Option(
        name: .customLong("log-format"),
        help: "text, logfmt or json (config key `log_format`; default text). Under journald (JOURNAL_STREAM set) no timestamp of its own.")
    var logFormat: String?

    @Flag(name: .customLong("check-config"), help: "Validate the config and flags, print the result, and exit (0 or 78).")
    var checkConfig = false

    func run() throws {
        let overrides = ConfigOverrides(socket: socket, stateDirectory: stateDirectory, logLevel: logLevel, logFormat: logFormat)
        if checkConfig {
            do {
                let config = try ConfigLoader.load(path: configPath, overrides: overrides)
                print("config ok: socket \(config.socket), state_dir \(config.stateDirectory), \(config.images.images.count) images, \(config.classifyRules.count) classify rules")
            } catch {
                print("sidecard: \(error)")
                throw ExitCode(SidecarExitCode.config.rawValue)
            }
            return
        }
        let code = Daemon.run(configPath: configPath, overrides: overrides)
        if code != 0 { throw ExitCode(code) }
    }
}
