import ArgumentParser
import SidecarCore

struct ImagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images", abstract: "List the images the daemon knows: presence, state, last job, back-off.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await CommandRunner.run(global) { client in
            let images = try await client.listImages(timeout: global.callTimeout)
            if global.json {
                Output.json(["images": images.map { image in
                    [
                        "name": image.name, "ref": image.ref, "present": image.present, "base_image": image.baseImage,
                        "keep_warm": image.keepWarm, "state": image.state.rawValue,
                        "last_job_outcome": image.lastJobOutcome,
                        "last_job_end_unix_ms": image.lastJobEndUnixMilliseconds, "last_error": image.lastError,
                        "backoff_remaining_seconds": image.backoffRemainingSeconds,
                    ] as [String: Any]
                }])
                return
            }
            if images.isEmpty {
                Output.line("no images")
                return
            }
            var table = TextTable("NAME", "REF", "PRESENT", "STATE", "LAST JOB", "BACKOFF", "ERROR")
            for image in images {
                table.add(
                    image.name, image.ref, image.present ? "yes" : "no", image.state.rawValue, lastJob(image),
                    image.backoffRemainingSeconds > 0 ? HumanText.span(seconds: image.backoffRemainingSeconds) : "-",
                    image.lastError.isEmpty ? "-" : image.lastError)
            }
            table.print()
        }
    }

    /// "BUILT 5m ago", or "-" before the first job.
    private func lastJob(_ image: ImageStatus) -> String {
        guard !image.lastJobOutcome.isEmpty else { return "-" }
        guard image.lastJobEndUnixMilliseconds > 0 else { return image.lastJobOutcome }
        let ago = -HumanText.secondsUntil(unixMilliseconds: image.lastJobEndUnixMilliseconds)
        return "\(image.lastJobOutcome) \(HumanText.span(seconds: ago)) ago"
    }

    /// A build's error can run to many lines; the table keeps the first.
}
