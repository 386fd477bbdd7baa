import ArgumentParser
import Foundation
import SidecarCore

struct RetryReserveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reserve",
        abstract: "Ask for a retry slot for KEY after a failure.",
        discussion: """
            Granted: prints the delay in seconds alone on stdout (so a shell can `sleep` it) and exits 0. \
            Denied (a permanent error) or exhausted (the policy's cap): prints why and the remedy, exits 1. \
            Throttled (the host's retry budget is spent): prints when to ask again, exits 75.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The operation, e.g. provision:task-ebdf2deb.")
    var key: String

    @Option(help: "The error that made the operation fail.")
    var error: String

    @Option(help: "A retry policy from the config (default: default).")
    var policy: String = ""

    @Option(name: .customLong("exit-code"), help: "The failed process's exit code.")
    var exitCode: Int32?

    @Option(
        name: .customLong("image"),
        help: ArgumentHelp("The image reference the operation used: a denial's remedy names it.", valueName: "ref"))
    var image: String = ""

    func run() async throws {
        try await CommandRunner.run(global) { client in
            let answer = try await client.reserveRetrySlotAnswer(
                key: key, lastError: error, policy: policy, exitCode: exitCode, image: image, timeout: global.callTimeout)
            let decision = answer.decision
            if answer.answeredLocally {
                Output.error("note: the fleet's ledger is unreachable; this host decided alone (fleet.degraded_retry)")
            }
            switch decision {
            case .granted(let attempt, let delay, let notBefore):
                if global.json {
                    Output.json([
                        "decision": "granted", "attempt": attempt, "delay_seconds": delay,
                        "not_before_unix_ms": Int64(notBefore * 1000),
                    ])
                } else {
                    Output.line(String(format: "%.3f", delay))
                    Output.error("granted attempt \(attempt) for \(key): wait \(String(format: "%.3f", delay)) s")
                }
            case .deniedPermanent(let category, let remedy):
                if global.json {
                    Output.json(["decision": "denied_permanent", "category": category, "remedy": remedy])
                } else {
                    Output.line("denied: \(key) failed permanently (\(category)); do not retry")
                    if !remedy.isEmpty { Output.line("remedy: \(remedy)") }
                }
                throw ExitCode(SidecarExitCode.no.rawValue)
            case .exhausted(let attempts, let firstError, let lastError):
                if global.json {
                    Output.json([
                        "decision": "exhausted", "attempts": attempts, "first_error": firstError, "last_error": lastError,
                    ])
                } else {
                    Output.line("exhausted: \(key) has used its \(attempts) attempts")
                    Output.line("first error: \(firstError)")
                    Output.line("last error:  \(lastError)")
                }
                throw ExitCode(SidecarExitCode.no.rawValue)
            case .throttled(let retryAfter):
                if global.json {
                    Output.json(["decision": "throttled", "retry_after_seconds": retryAfter])
                } else {
                    Output.line("throttled: the host's retry budget is spent; ask again in \(String(format: "%.0f", retryAfter)) s")
                }
                throw ExitCode(SidecarExitCode.tempFail.rawValue)
            }
        }
    }
}
