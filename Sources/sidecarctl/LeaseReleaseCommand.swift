import ArgumentParser

struct LeaseReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release", abstract: "End lease ID before its TTL (releasing it twice is OK).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The lease id that `lease acquire` printed.")
    var id: String

    func run() async throws {
        try await CommandRunner.run(global) { client in
            try await client.releaseLease(id: id, timeout: global.callTimeout)
            if global.json {
                Output.json(["id": id, "released": true])
            } else {
                Output.line("released \(id)")
            }
        }
    }
}
