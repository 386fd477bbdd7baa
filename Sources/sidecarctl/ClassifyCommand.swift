import ArgumentParser
import SidecarCore

struct ClassifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Say whether an error is permanent or transient, and what to do about it.",
        discussion: "Exits 0 whatever the verdict; read `permanent` (or the JSON field) to decide.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The error message as the failing tool printed it.")
    var message: String = ""

    @Option(name: .customLong("exit-code"), help: "The failed process's exit code.")
    var exitCode: Int32?

    @Option(name: .customLong("sqlite-code"), help: "A SQLite result code (primary or extended).")
    var sqliteCode: Int32?

    func validate() throws {
        if message.isEmpty && exitCode == nil && sqliteCode == nil {
            throw ValidationError("give an error message, --exit-code or --sqlite-code")
        }
    }

    func run() async throws {
        try await CommandRunner.run(global) { client in
            let verdict = try await client.classify(
                FailureReport(message: message, exitCode: exitCode, sqliteCode: sqliteCode), timeout: global.callTimeout)
            if global.json {
                Output.json([
                    "category": verdict.category, "permanent": verdict.permanent, "remedy": verdict.remedy,
                    "rule": verdict.rule,
                ])
            } else {
                Output.line("category:  \(verdict.category)")
                Output.line("permanent: \(verdict.permanent ? "yes, do not retry" : "no, a retry may succeed")")
                if !verdict.remedy.isEmpty { Output.line("remedy:    \(verdict.remedy)") }
                if !verdict.rule.isEmpty { Output.line("rule:      \(verdict.rule)") }
            }
        }
    }
}
