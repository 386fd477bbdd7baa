import ArgumentParser

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Admin: remove images no ref reaches and refs neither leased nor used lately.",
        discussion: "Never removes anything a lease holds.")

    @OptionGroup var global: GlobalOptions

    @Flag(name: .customLong("dry-run"), help: "Only say what would be removed.")
    var dryRun = false

    func run() async throws {
        try await CommandRunner.run(global) { client in
            let report = try await client.prune(dryRun: dryRun, timeout: global.callTimeout)
            if global.json {
                Output.json([
                    "dry_run": dryRun, "removed": report.removed, "bytes_freed": report.bytesFreed,
                    "kept_leased": report.keptLeased,
                ])
                return
            }
            let verb = dryRun ? "would remove" : "removed"
            Output.line("\(verb) \(report.removed.count), \(dryRun ? "freeing" : "freed") \(HumanText.bytes(report.bytesFreed))")
            for item in report.removed { Output.line("  \(verb): \(item)") }
            for item in report.keptLeased { Output.line("  kept (leased): \(item)") }
        }
    }
}
