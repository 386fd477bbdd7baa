import ArgumentParser

struct ReloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload", abstract: "Admin: make the daemon re-read its config file (like SIGHUP).")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await CommandRunner.run(global) { client in
            let answer = try await client.reload(timeout: global.callTimeout)
            if global.json {
                Output.json(["config_path": answer.configPath, "needs_restart": answer.needsRestart])
            } else {
                Output.line("reloaded \(answer.configPath)")
                if !answer.needsRestart.isEmpty {
                    Output.line("needs a restart to change: \(answer.needsRestart.joined(separator: ", "))")
                }
            }
        }
    }
}
