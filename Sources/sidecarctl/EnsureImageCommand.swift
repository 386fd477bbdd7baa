import ArgumentParser
import SidecarClient
import SidecarCore

struct EnsureImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ensure-image",
        abstract: "Make sure an image is present and intact: build or pull it once if not.",
        discussion: """
            Concurrent calls for one image share one job. Exit codes: 0 the image is there (STALE too: \
            an older valid copy, with a warning on stderr); 1 unknown image, or a job that failed for \
            good: the image or repository missing, credentials, TLS (the remedy is printed); 75 \
            temporary: a transient failure (registry down, rate limited) or the back-off after one, \
            backend unreachable, timed out; 69 the sidecar cannot be reached.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "An image name from the daemon's config (agent-base) or a reference (localhost/agent-base:latest).")
    var image: String

    @Option(
        name: .customLong("lease"),
        help: ArgumentHelp("Also take a lease on the image for this holder, e.g. runner-7/task-ebdf2deb.", valueName: "holder"))
    var leaseHolder: String?

    @Option(
        name: .customLong("lease-ttl"),
        help: ArgumentHelp("How long the lease holds (default: \(LeaseTTL.defaultText)).", valueName: "duration"))
    var leaseTTL: String?

    @Option(help: "While a job runs, show its progress on stderr: auto (a live line on a terminal, plain lines otherwise), plain, none.")
    var progress: ProgressMode = .auto

    func validate() throws {
        if leaseTTL != nil && leaseHolder == nil { throw ValidationError("--lease-ttl goes with --lease HOLDER") }
        if leaseHolder?.isEmpty == true { throw ValidationError("--lease needs a holder") }
        _ = try leaseTTLSeconds()
    }

    /// 0 without --lease: no lease is asked for.
    private func leaseTTLSeconds() throws -> UInt32 {
        guard leaseHolder != nil else { return 0 }
        return try LeaseTTL.seconds(leaseTTL ?? LeaseTTL.defaultText, flag: "--lease-ttl")
    }

    func run() async throws {
        let ttlSeconds = try leaseTTLSeconds()
        try await CommandRunner.run(global) { client in
            let display = progress == .none ? nil : JobProgress(image: image, mode: progress)
            let following = display?.follow(client)
            defer {
                following?.cancel()
                display?.finish()
            }
            let answer = try await client.ensureImage(
                image, leaseHolder: leaseHolder ?? "", leaseTTLSeconds: ttlSeconds, timeout: global.callTimeout)
            following?.cancel()
            display?.finish()
            if global.json {
                var object: [String: Any] = [
                    "outcome": answer.outcome.rawValue, "name": answer.name, "ref": answer.ref, "id": answer.id,
                    "coalesced": answer.coalesced, "job_seconds": answer.jobSeconds, "detail": answer.detail,
                    "queued_behind": answer.queuedBehind,
                ]
                if let lease = answer.lease { object["lease"] = lease.jsonObject }
                Output.json(object)
            } else {
                Output.line(summary(answer))
                if let lease = answer.lease {
                    Output.line("lease \(lease.id) for \(lease.holder), expires \(lease.expiry)")
                }
                // REPAIRED's detail says what was damaged; STALE's is a warning, on stderr below.
                if answer.outcome != .stale && !answer.detail.isEmpty { Output.line("  \(answer.detail)") }
            }
            if answer.outcome == .stale {
                Output.error("sidecarctl: warning: refreshing \(answer.ref) failed; an older valid copy is answered: \(answer.detail)")
            }
        }
    }

    /// "agent-base (localhost/agent-base:latest): BUILT in 3.2 s (joined a job already running)".
    private func summary(_ answer: EnsureImageAnswer) -> String {
        let subject = answer.name.isEmpty || answer.name == answer.ref ? answer.ref : "\(answer.name) (\(answer.ref))"
        var text = "\(subject): \(answer.outcome.rawValue)"
        if answer.jobSeconds > 0 { text += " in \(HumanText.tenths(answer.jobSeconds)) s" }
        if answer.coalesced { text += " (joined a job already running)" }
        if answer.queuedBehind > 0 { text += " (queued behind \(answer.queuedBehind))" }
        return text
    }
}
