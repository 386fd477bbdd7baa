import SidecarProtoC

public struct MetricsRequest: WireMessage, Equatable {
    public init() {}

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        // No fields: empty bytes are the whole message, nothing to unpack.
        guard !wireBytes.isEmpty else { return }
        try ProtobufCField.unpack(
            wireBytes, name: "MetricsRequest",
            unpack: { sidecar__v1__metrics_request__unpack(nil, $0, $1) },
            free: { sidecar__v1__metrics_request__free_unpacked($0, nil) }
        ) { _ in () }
    }

    package func wireBytes() -> [UInt8] { [] }
}

public struct MetricsResponse: WireMessage, Equatable {
    /// Prometheus text exposition format.
    public var text: String

    public init(text: String) {
        self.text = text
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "MetricsResponse",
            unpack: { sidecar__v1__metrics_response__unpack(nil, $0, $1) },
            free: { sidecar__v1__metrics_response__free_unpacked($0, nil) }
        ) { c in MetricsResponse(text: ProtobufCField.string(c.text)) }
    }

    package func wireBytes() -> [UInt8] {
        let arena = PackArena()
        var c = Sidecar__V1__MetricsResponse()
        sidecar__v1__metrics_response__init(&c)
        c.text = arena.string(text)
        return withExtendedLifetime(arena) {
            ProtobufCField.pack(
                &c, size: { sidecar__v1__metrics_response__get_packed_size($0) },
                pack: { sidecar__v1__metrics_response__pack($0, $1) })
        }
    }
}
