import SidecarCore
import SidecarWire

enum MetricsHandler {
    static func spec(server: Server) -> MethodSpec {
        .unary("Metrics") { (_, _: MetricsRequest) in
            let context = server.context
            let gauges = MetricsRegistry.Gauges(
                connections: server.connectionCount, inflightCalls: server.inflightCalls,
                watchers: context.events.subscriberCount,
                loopLagSeconds: (server.lagProbe?.lastMilliseconds ?? 0) / 1000,
                loopLagMaxSeconds: (server.lagProbe?.maxMilliseconds ?? 0) / 1000,
                uptimeSeconds: context.uptimeSeconds(loopMilliseconds: server.loop.nowMilliseconds),
                version: SidecarDefaults.version)
            return MetricsResponse(text: context.metrics.render(gauges))
        }
    }
}
