import ArgumentParser

/// `sidecarctl lease acquire|release`: keep an image from anything the
/// sidecar removes (prune, eviction, repair) while it is in use.
struct LeaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lease",
        abstract: "Take, renew or release a lease on an image (list them with `sidecarctl leases`).",
        subcommands: [LeaseAcquireCommand.self, LeaseReleaseCommand.self])
}
