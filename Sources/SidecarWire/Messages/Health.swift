import SidecarProtoC

public struct HealthResponse: Equatable, Sendable {
    public var version: String
    public var uptimeSeconds: Double
    public var connections: UInt32
    public var inflightCalls: UInt32
    public var loopLagMilliseconds: Double
    public var loopLagMaxMilliseconds: Double
    public var pid: UInt32
    public var state: String
    /// "events", or "ttl: " and why presence is not kept by events.
    public var imagePresence: String

    public init(
        version: String, uptimeSeconds: Double, connections: UInt32, inflightCalls: UInt32,
        loopLagMilliseconds: Double, loopLagMaxMilliseconds: Double, pid: UInt32, state: String, imagePresence: String = ""
    ) {
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.connections = connections
        self.inflightCalls = inflightCalls
        self.loopLagMilliseconds = loopLagMilliseconds
        self.loopLagMaxMilliseconds = loopLagMaxMilliseconds
        self.pid = pid
        self.state = state
        self.imagePresence = imagePresence
    }
}

extension HealthResponse: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__HealthResponse>) { sidecar__v1__health_response__init(c) }

    package init(reading c: Sidecar__V1__HealthResponse) {
        self.init(
            version: ProtobufCField.string(c.version), uptimeSeconds: c.uptime_seconds,
            connections: c.connections, inflightCalls: c.inflight_calls,
            loopLagMilliseconds: c.loop_lag_ms, loopLagMaxMilliseconds: c.loop_lag_max_ms,
            pid: c.pid, state: ProtobufCField.string(c.state), imagePresence: ProtobufCField.string(c.image_presence))
    }

    package func fill(_ c: inout Sidecar__V1__HealthResponse, arena: PackArena) {
        c.version = arena.string(version)
        c.uptime_seconds = uptimeSeconds
        c.connections = connections
        c.inflight_calls = inflightCalls
        c.loop_lag_ms = loopLagMilliseconds
        c.loop_lag_max_ms = loopLagMaxMilliseconds
        c.pid = pid
        c.state = arena.string(state)
        c.image_presence = arena.string(imagePresence)
    }

    package func wireBytes() -> [UInt8] {
        let writer = ProtobufWriter(capacity: 64)
        encode(into: writer)
        return writer.bytes
    }

    /// By hand, in field order: every call of Health goes through here.
    package func encode(into writer: ProtobufWriter) {
        writer.string(1, version)
        writer.double(2, uptimeSeconds)
        writer.uint32(3, connections)
        writer.uint32(4, inflightCalls)
        writer.double(5, loopLagMilliseconds)
        writer.double(6, loopLagMaxMilliseconds)
        writer.uint32(7, pid)
        writer.string(8, state)
        writer.string(9, imagePresence)
    }
}
