import Glibc
import SidecarCore
import SidecarWire

enum HealthHandler {
    static func spec(server: Server) -> MethodSpec {
        let pid = UInt32(getpid())
        return .unary("Health") { (_, _: HealthRequest) in
            let context = server.context
            return HealthResponse(
                version: SidecarDefaults.version,
                uptimeSeconds: context.uptimeSeconds(loopMilliseconds: server.loop.nowMilliseconds),
                connections: UInt32(server.connectionCount), inflightCalls: UInt32(server.inflightCalls),
                loopLagMilliseconds: server.lagProbe?.lastMilliseconds ?? 0,
                loopLagMaxMilliseconds: server.lagProbe?.maxMilliseconds ?? 0,
                pid: pid, state: server.state == .serving ? "serving" : "draining")
        }
    }
}
