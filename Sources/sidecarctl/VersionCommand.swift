import ArgumentParser
import SidecarCore

struct VersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Show sidecarctl's version and protocol revision, and the daemon's.",
        discussion: "The client's line is printed even when the daemon cannot be reached (then exit 69).")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let client = ["version": SidecarDefaults.version, "protocol": "\(SidecarDefaults.protocolVersion)"]
        if !global.json { Output.line("sidecarctl \(SidecarDefaults.version) (protocol \(SidecarDefaults.protocolVersion))") }
        try await CommandRunner.run(global) { daemon in
            let server = try await daemon.serverInfo(timeout: global.callTimeout)
            if global.json {
                Output.json([
                    "client": client,
                    "daemon": [
                        "version": server.version, "protocol": "\(server.protocolVersion)", "socket": daemon.socketPath,
                        "max_message_bytes": "\(server.maxMessageBytes)", "max_inflight_calls": "\(server.maxInflightCalls)",
                    ],
                ])
            } else {
                Output.line("sidecard \(server.version) (protocol \(server.protocolVersion)) on \(daemon.socketPath)")
            }
        }
    }
}
