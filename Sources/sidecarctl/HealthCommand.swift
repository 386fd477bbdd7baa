import ArgumentParser
import SidecarWire

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health", abstract: "Show whether the daemon answers, and its load.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await CommandRunner.run(global) { client in
            let health = try await client.health(timeout: global.callTimeout)
            if global.json {
                var object: [String: Any] = [
                    "version": health.version, "state": health.state, "pid": health.pid,
                    "uptime_seconds": health.uptimeSeconds, "connections": health.connections,
                    "inflight_calls": health.inflightCalls, "loop_lag_ms": health.loopLagMilliseconds,
                    "loop_lag_max_ms": health.loopLagMaxMilliseconds, "socket": client.socketPath,
                    "image_presence": health.imagePresence,
                ]
                if let fleet = health.fleet { object["fleet"] = fleet.jsonObject }
                Output.json(object)
            } else {
                Output.line("sidecard \(health.version) \(health.state) on \(client.socketPath) (pid \(health.pid))")
                Output.line(
                    "uptime \(format(health.uptimeSeconds))s, \(counted(health.connections, "connection")), "
                        + "\(counted(health.inflightCalls, "call")) in flight, loop lag \(format(health.loopLagMilliseconds)) ms "
                        + "(max \(format(health.loopLagMaxMilliseconds)) ms over the last minute)")
                if !health.imagePresence.isEmpty { Output.line("image presence: \(health.imagePresence)") }
                if let fleet = health.fleet { Output.line("fleet: host \(fleet.hostID), \(fleet.summary)") }
            }
        }
    }

    private func counted(_ count: UInt32, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }

    private func format(_ value: Double) -> String {
        String(Double((value * 10).rounded()) / 10)
    }
}
