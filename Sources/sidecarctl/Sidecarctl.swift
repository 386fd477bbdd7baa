import ArgumentParser
import SidecarCore

/// `sidecarctl`: the operator's and shell hooks' way to ask `sidecard`.
/// Built on SidecarClient alone; one file per subcommand.
@main
struct Sidecarctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sidecarctl",
        abstract: "Ask the sidecar daemon (sidecard) over its Unix socket.",
        discussion: """
            Exit codes: 0 ok; 1 the answer is no; 64 usage error; 65 the database is really corrupt; \
            69 the sidecar cannot be reached; 75 temporary, try again later; 77 permission denied.
            """,
        version: SidecarDefaults.version,
        subcommands: [
            HealthCommand.self, ClassifyCommand.self, MetricsCommand.self, WatchCommand.self, ReloadCommand.self,
            EnsureImageCommand.self, ImagesCommand.self, LeasesCommand.self, LeaseCommand.self, PruneCommand.self, ScrubCommand.self,
            VersionCommand.self, RetryCommand.self, CheckDbCommand.self, ReportDbErrorCommand.self, RunCommand.self, HookCommand.self,
            FleetCommand.self,
        ])

    /// `sidecarctl [--socket PATH] [--json] [--timeout DUR] COMMAND ...`: the
    /// global options may also stand before the command (DESIGN.md 3.3).
    static func main() async {
        await main(GlobalOptions.hoistedBehindCommand(Array(CommandLine.arguments.dropFirst())))
    }
}
