import SidecarProtoC

public struct HealthRequest: WireMessage, Equatable {
    public init() {}

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        // No fields: empty bytes are the whole message, nothing to unpack.
        guard !wireBytes.isEmpty else { return }
        try ProtobufCField.unpack(
            wireBytes, name: "HealthRequest",
            unpack: { sidecar__v1__health_request__unpack(nil, $0, $1) },
            free: { sidecar__v1__health_request__free_unpacked($0, nil) }
        ) { _ in () }
    }

    package func wireBytes() -> [UInt8] { [] }
}

public struct HealthResponse: WireMessage, Equatable {
    public var version: String
    public var uptimeSeconds: Double
    public var connections: UInt32
    public var inflightCalls: UInt32
    public var loopLagMilliseconds: Double
    public var loopLagMaxMilliseconds: Double
    public var pid: UInt32
    public var state: String

    public init(
        version: String, uptimeSeconds: Double, connections: UInt32, inflightCalls: UInt32,
        loopLagMilliseconds: Double, loopLagMaxMilliseconds: Double, pid: UInt32, state: String
    ) {
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.connections = connections
        self.inflightCalls = inflightCalls
        self.loopLagMilliseconds = loopLagMilliseconds
        self.loopLagMaxMilliseconds = loopLagMaxMilliseconds
        self.pid = pid
        self.state = state
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "HealthResponse",
            unpack: { sidecar__v1__health_response__unpack(nil, $0, $1) },
            free: { sidecar__v1__health_response__free_unpacked($0, nil) }
        ) { c in
            HealthResponse(
                version: ProtobufCField.string(c.version), uptimeSeconds: c.uptime_seconds,
                connections: c.connections, inflightCalls: c.inflight_calls,
                loopLagMilliseconds: c.loop_lag_ms, loopLagMaxMilliseconds: c.loop_lag_max_ms,
                pid: c.pid, state: ProtobufCField.string(c.state))
        }
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
    }

    /// protobuf-c's encoding, which tests hold `encode(into:)` equal to.
    func protobufCWireBytes() -> [UInt8] {
        let arena = PackArena()
        var c = Sidecar__V1__HealthResponse()
        sidecar__v1__health_response__init(&c)
        c.version = arena.string(version)
        c.uptime_seconds = uptimeSeconds
        c.connections = connections
        c.inflight_calls = inflightCalls
        c.loop_lag_ms = loopLagMilliseconds
        c.loop_lag_max_ms = loopLagMaxMilliseconds
        c.pid = pid
        c.state = arena.string(state)
        return withExtendedLifetime(arena) {
            ProtobufCField.pack(
                &c, size: { sidecar__v1__health_response__get_packed_size($0) },
                pack: { sidecar__v1__health_response__pack($0, $1) })
        }
    }
}
