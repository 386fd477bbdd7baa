import ArgumentParser

/// `sidecarctl retry reserve|done|list|reset`: the host's one retry ledger.
struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Ask whether a failed operation may be retried, report outcomes, inspect the ledger.",
        subcommands: [RetryReserveCommand.self, RetryDoneCommand.self, RetryListCommand.self, RetryResetCommand.self])
}
