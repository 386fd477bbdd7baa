import ArgumentParser

struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics", abstract: "Print the daemon's metrics in the Prometheus text format.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await CommandRunner.run(global) { client in
            let text = try await client.metrics(timeout: global.callTimeout)
            if global.json {
                Output.json(["text": text])
            } else {
                print(text, terminator: "")
            }
        }
    }
}
