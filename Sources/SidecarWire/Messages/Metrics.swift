import SidecarProtoC

public struct MetricsRequest: Equatable, Sendable {
    public init() {}
}

extension MetricsRequest: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__MetricsRequest>) { sidecar__v1__metrics_request__init(c) }
    package init(reading _: Sidecar__V1__MetricsRequest) {}
    package func fill(_: inout Sidecar__V1__MetricsRequest, arena _: PackArena) {}

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        // No fields: empty bytes are the whole message, nothing to unpack.
        guard !wireBytes.isEmpty else {
            self.init()
            return
        }
        try self.init(protobufCWireBytes: wireBytes)
    }

    package func wireBytes() -> [UInt8] { [] }
}

public struct MetricsResponse: Equatable, Sendable {
    /// Prometheus text exposition format.
    public var text: String

    public init(text: String) {
        self.text = text
    }
}

extension MetricsResponse: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__MetricsResponse>) { sidecar__v1__metrics_response__init(c) }
    package init(reading c: Sidecar__V1__MetricsResponse) { self.init(text: ProtobufCField.string(c.text)) }
    package func fill(_ c: inout Sidecar__V1__MetricsResponse, arena: PackArena) { c.text = arena.string(text) }
}
