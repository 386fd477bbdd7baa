import SidecarProtoC

/// Every message of the schema without fields, as one type: the requests
/// of the methods that take no argument and the answers that say only OK.
public struct EmptyMessage: Equatable, Sendable {
    public init() {}
}

public typealias HealthRequest = EmptyMessage
public typealias MetricsRequest = EmptyMessage
public typealias ReloadRequest = EmptyMessage
public typealias ReleaseLeaseResponse = EmptyMessage
public typealias CompleteAttemptResponse = EmptyMessage
public typealias ResetRetryResponse = EmptyMessage
/// The answers of CompleteAttempt, ResetRetry and ReleaseLease.
public typealias EmptyResponse = EmptyMessage

extension EmptyMessage: ProtobufCConvertible {
    // Field-less messages all read the same bytes (unknown fields only), so
    // one of their structs stands for every one.
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__HealthRequest>) { sidecar__v1__health_request__init(c) }
    package init(reading _: Sidecar__V1__HealthRequest) {}
    package func fill(_: inout Sidecar__V1__HealthRequest, arena _: PackArena) {}

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        // Empty bytes are the whole message: nothing to unpack.
        guard !wireBytes.isEmpty else { return }
        do {
            _ = try EmptyMessage(protobufCWireBytes: wireBytes)
        } catch {
            // protobuf-c's text would name the stand-in's message.
            throw WireDecodingError("malformed empty message (\(wireBytes.count) bytes)")
        }
    }

    package func wireBytes() -> [UInt8] { [] }
}
