import ArgumentParser
import SidecarCore

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

    @Option(help: ArgumentHelp(
        "How long it holds unless renewed (default: \(LeaseTTL.defaultText), or with --holder-pid as long as that process runs).",
        valueName: "duration"))
    var ttl: String?

    @Option(name: .customLong("holder-pid"), help: "End the lease when this process ends (its start time is read from /proc).")
    var holderPID: Int32?

    func validate() throws {
        _ = try ttlSeconds()
    }

    /// 0 (no time limit) only for a lease bound to a process.
    private func ttlSeconds() throws -> UInt32 {
        guard let ttl else { return holderPID == nil ? try LeaseTTL.seconds(LeaseTTL.defaultText, flag: "--ttl") : 0 }
        return try LeaseTTL.seconds(ttl, flag: "--ttl")
    }

    func run() async throws {
        let ttlSeconds = try ttlSeconds()
        var holderProcess: ProcessIdentity?
        if let holderPID {
            guard let process = ProcessIdentity.of(pid: holderPID) else {
                throw ValidationError("--holder-pid \(holderPID): no such process runs")
            }
            holderProcess = process
        }
        try await CommandRunner.run(global) { client in
            let lease = try await client.acquireLease(
                target: target, holder: holder, ttlSeconds: ttlSeconds, holderProcess: holderProcess, timeout: global.callTimeout)
            if global.json {
                Output.json(lease.jsonObject)
            } else {
                Output.line(lease.id)
                Output.error("lease \(lease.id) on \(lease.target) for \(lease.holder), expires \(lease.expiry)")
            }
        }
    }
}
