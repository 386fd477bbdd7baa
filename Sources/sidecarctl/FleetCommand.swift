import ArgumentParser
import Foundation
import SidecarWire

/// `sidecarctl fleet status`: this host's link to the fleet (docs/fleet.md).
struct FleetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet", abstract: "Fleet mode: the retry ledger shared by every host.", subcommands: [FleetStatusCommand.self])
}

struct FleetStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show this host's link to the fleet's PostgreSQL, the builds it holds the claim of and those it waits on.",
        discussion: "Exits 0 when connected, 75 when connecting or degraded, 1 when fleet mode is off.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await CommandRunner.run(global) { client in
            let health = try await client.health(timeout: global.callTimeout)
            guard let fleet = health.fleet else {
                if global.json { Output.json(["enabled": false]) } else { Output.line("fleet mode is off (no [fleet] postgres in the config)") }
                throw ExitCode(1)
            }
            if global.json {
                Output.json(fleet.jsonObject.merging(["enabled": true]) { $1 })
            } else {
                Output.line("host \(fleet.hostID): \(fleet.summary)")
                for claim in fleet.claims { Output.line("building for the fleet: \(claim)") }
                for wait in fleet.waits { Output.line("waiting on the fleet: \(wait)") }
            }
            if fleet.state != "connected" { throw ExitCode(75) }
        }
    }
}

extension FleetHealth {
    var jsonObject: [String: Any] {
        var object: [String: Any] = ["state": state, "host_id": hostID, "claims": claims, "waits": waits]
        if state == "degraded" {
            object["reason"] = reason
            object["degraded_since_unix_ms"] = Int64(sinceUnixSeconds * 1000)
        }
        return object
    }

    /// One line: the state, and for a degraded link since when and why.
    var summary: String {
        guard state == "degraded" else { return state }
        let seconds = Int(max(0, Date().timeIntervalSince1970 - sinceUnixSeconds))
        return "degraded for \(seconds) s: \(reason)"
    }
}
