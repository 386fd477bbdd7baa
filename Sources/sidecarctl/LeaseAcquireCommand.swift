import ArgumentParser

struct LeaseAcquireCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acquire",
        abstract: "Take or renew a lease on TARGET for HOLDER.",
        discussion: """
            Prints the lease id alone on stdout (so a shell can keep it for `lease release`), the rest \
            on stderr. The same holder asking again renews its lease.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "What the lease keeps: an image name or ref.")
    var target: String

    @Option(help: "Who holds it, e.g. runner-7/task-ebdf2deb.")
    var holder: String

    @Option(help: ArgumentHelp("How long it holds unless renewed.", valueName: "duration"))
    var ttl: String = LeaseTTL.defaultText

    func validate() throws {
        _ = try LeaseTTL.seconds(ttl, flag: "--ttl")
    }

    func run() async throws {
        let ttlSeconds = try LeaseTTL.seconds(ttl, flag: "--ttl")
        try await CommandRunner.run(global) { client in
            let lease = try await client.acquireLease(
                target: target, holder: holder, ttlSeconds: ttlSeconds, timeout: global.callTimeout)
            if global.json {
                Output.json(lease.jsonObject)
            } else {
                Output.line(lease.id)
                Output.error("lease \(lease.id) on \(lease.target) for \(lease.holder), expires in \(lease.expiresIn)")
            }
        }
    }
}
