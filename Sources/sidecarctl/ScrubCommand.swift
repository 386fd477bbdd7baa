import ArgumentParser
import SidecarCore

struct ScrubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scrub",
        abstract: "Admin: re-hash every blob of every present image now, and repair what is damaged.",
        discussion: """
            Trusts no cache, at images.scrub_mb_per_second; waits for the scrub and its repairs (a scrub \
            already running is joined). Exit: 0 nothing damaged, or every damaged image repaired; \
            1 a repair failed; 75 the daemon cannot scrub now.
            """)

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await CommandRunner.run(global) { client in
            let report = try await client.scrub(timeout: global.callTimeout)
            let failed = report.damaged.filter { $0.repair.hasPrefix("FAILED") }
            if global.json {
                Output.json([
                    "images": report.images, "blobs": report.blobs, "bytes": report.bytes, "seconds": report.seconds,
                    "skipped_blobs": report.skippedBlobs,
                    "damaged": report.damaged.map { ["ref": $0.ref, "damage": $0.damage, "repair": $0.repair] },
                ])
            } else {
                Output.line(
                    "scrubbed \(report.blobs) blob(s) of \(report.images) image(s), \(HumanText.bytes(report.bytes)) "
                        + "in \(HumanText.tenths(report.seconds))s: \(report.damaged.isEmpty ? "nothing damaged" : "\(report.damaged.count) damaged")")
                for finding in report.damaged { Output.line("  \(finding.ref): \(finding.damage); repair: \(finding.repair)") }
                if report.skippedBlobs > 0 { Output.line("  \(report.skippedBlobs) blob(s) changed while hashed; each is checked again on its own") }
            }
            if !failed.isEmpty { throw ExitCode(SidecarExitCode.no.rawValue) }
        }
    }
}
