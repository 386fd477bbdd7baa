import SidecarProtoC

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
