import ArgumentParser

struct RetryResetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset", abstract: "Admin: forget KEY, its attempts and its failure mark.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The operation's key.")
    var key: String

    func run() async throws {
        try await CommandRunner.run(global) { client in
            try await client.resetRetry(key: key, timeout: global.callTimeout)
            if global.json {
                Output.json(["key": key, "reset": true])
            } else {
                Output.line("reset \(key)")
            }
        }
    }
}
