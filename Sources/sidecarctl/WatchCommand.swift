import ArgumentParser
import Foundation

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Print the daemon's events as they happen, until interrupted.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Topic prefixes to show, e.g. image. retry.denied (default: all).")
    var topics: [String] = []

    func run() async throws {
        try await CommandRunner.run(global) { client in
            for try await event in client.watch(topics: topics, timeout: global.callTimeout) {
                if global.json {
                    Output.json([
                        "topic": event.topic, "time_unix_ms": event.timeUnixMilliseconds, "subject": event.subject,
                        "message": event.message, "attributes": event.attributes,
                    ])
                } else {
                    let time = Date(timeIntervalSince1970: Double(event.timeUnixMilliseconds) / 1000)
                    let extras = event.attributes.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
                    Output.line("\(time.formatted(.iso8601)) \(event.topic) \(event.subject): \(event.message)\(extras)")
                }
            }
        }
    }
}
