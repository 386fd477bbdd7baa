import ArgumentParser

struct RetryDoneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "done", abstract: "Report how a granted attempt of KEY ended: --success, or --failure --error MSG.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The operation's key.")
    var key: String

    @Flag(help: "The attempt succeeded: the key is closed.")
    var success = false

    @Flag(help: "The attempt failed; give --error.")
    var failure = false

    @Option(help: "What the failed attempt printed.")
    var error: String?

    func validate() throws {
        guard success != failure else { throw ValidationError("give exactly one of --success and --failure") }
        if failure && (error ?? "").isEmpty { throw ValidationError("--failure needs --error MSG") }
        if success && error != nil { throw ValidationError("--error goes with --failure") }
    }

    func run() async throws {
        try await CommandRunner.run(global) { client in
            try await client.completeAttempt(key: key, success: success, error: error ?? "", timeout: global.callTimeout)
            if global.json {
                Output.json(["key": key, "outcome": success ? "success" : "failure"])
            } else {
                Output.line("recorded \(success ? "success" : "failure") for \(key)")
            }
        }
    }
}
