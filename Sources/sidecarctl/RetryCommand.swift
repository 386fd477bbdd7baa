import ArgumentParser
import SidecarClient

/// `sidecarctl retry reserve|done|list|policies|reset`: the host's one retry ledger.
struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Ask whether a failed operation may be retried, report outcomes, inspect the ledger.",
        subcommands: [
            RetryReserveCommand.self, RetryDoneCommand.self, RetryListCommand.self, RetryPoliciesCommand.self,
            RetryResetCommand.self,
        ])
}

/// Small enough to live beside its registration.
struct RetryPoliciesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policies", abstract: "List the retry policies the daemon runs with.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await CommandRunner.run(global) { client in
            let policies = try await client.listPolicies(timeout: global.callTimeout)
            if global.json {
                Output.json(["policies": policies.map { named in
                    [
                        "name": named.name, "max_attempts": named.policy.maxAttempts,
                        "base_delay_seconds": named.policy.baseDelaySeconds, "max_delay_seconds": named.policy.maxDelaySeconds,
                    ] as [String: Any]
                }])
                return
            }
            var table = TextTable("POLICY", "MAX ATTEMPTS", "BASE DELAY", "MAX DELAY")
            for named in policies {
                let policy = named.policy
                table.add(
                    named.name, "\(policy.maxAttempts)", DurationText.format(policy.baseDelaySeconds), DurationText.format(policy.maxDelaySeconds))
            }
            table.print()
        }
    }
}
