import CProtobufC
import SidecarCore

/// A method as the daemon serves it and the client calls it: one value, so
/// the two cannot disagree on its name or its messages. `Response` is the
/// type of the answer, or of each message of a stream.
package struct RPC<Request: WireMessage, Response: WireMessage>: Sendable {
    /// On the wire: "Health", or "Debug.Sleep" outside the Sidecar service.
    package let name: String
    package let requiresAdmin: Bool
    package let isStreaming: Bool

    package init(_ name: String, requiresAdmin: Bool = false, isStreaming: Bool = false) {
        self.name = name
        self.requiresAdmin = requiresAdmin
        self.isStreaming = isStreaming
    }
}

/// An RPC without its Swift types, for a list of them all: its messages are
/// named by protobuf-c's descriptors, which the schema test holds to the
/// services'. `EmptyMessage` stands for every field-less message, so its
/// descriptor is that of one of them.
package struct RPCInfo: @unchecked Sendable {  // The descriptors are C constants.
    package let name: String
    package let requiresAdmin: Bool
    package let isStreaming: Bool
    package let request: UnsafePointer<ProtobufCMessageDescriptor>
    package let response: UnsafePointer<ProtobufCMessageDescriptor>

    package init<Request: ProtobufCConvertible, Response: ProtobufCConvertible>(_ rpc: RPC<Request, Response>) {
        name = rpc.name
        requiresAdmin = rpc.requiresAdmin
        isStreaming = rpc.isStreaming
        request = Request.descriptor
        response = Response.descriptor
    }
}

/// Every method of sidecar.proto.
package enum SidecarMethods {
    package static let health = RPC<HealthRequest, HealthResponse>("Health")
    package static let ensureImage = RPC<EnsureImageRequest, EnsureImageResponse>("EnsureImage")
    package static let listImages = RPC<ListImagesRequest, ListImagesResponse>("ListImages")
    package static let acquireLease = RPC<AcquireLeaseRequest, LeaseRecord>("AcquireLease")
    package static let releaseLease = RPC<ReleaseLeaseRequest, ReleaseLeaseResponse>("ReleaseLease")
    package static let listLeases = RPC<ListLeasesRequest, ListLeasesResponse>("ListLeases")
    package static let checkDb = RPC<CheckDbRequest, CheckDbResponse>("CheckDb")
    package static let reportDbError = RPC<ReportDbErrorRequest, ReportDbErrorResponse>("ReportDbError")
    package static let reserveRetrySlot = RPC<ReserveRetrySlotRequest, ReserveRetrySlotResponse>("ReserveRetrySlot")
    package static let completeAttempt = RPC<CompleteAttemptRequest, CompleteAttemptResponse>("CompleteAttempt")
    package static let listRetries = RPC<ListRetriesRequest, ListRetriesResponse>("ListRetries")
    package static let resetRetry = RPC<ResetRetryRequest, ResetRetryResponse>("ResetRetry", requiresAdmin: true)
    package static let classify = RPC<ClassifyRequest, ClassifyResponse>("Classify")
    package static let watch = RPC<WatchRequest, SidecarEvent>("Watch", isStreaming: true)
    package static let metrics = RPC<MetricsRequest, MetricsResponse>("Metrics")
    package static let reload = RPC<ReloadRequest, ReloadResponse>("Reload", requiresAdmin: true)
    package static let prune = RPC<PruneRequest, PruneResponse>("Prune", requiresAdmin: true)
    /// Served only by a daemon with `debug_methods = true`.
    package static let debugSleep = RPC<SleepRequest, SleepResponse>("Debug.Sleep")

    package static let all: [RPCInfo] = [
        RPCInfo(health), RPCInfo(ensureImage), RPCInfo(listImages), RPCInfo(acquireLease), RPCInfo(releaseLease),
        RPCInfo(listLeases), RPCInfo(checkDb), RPCInfo(reportDbError), RPCInfo(reserveRetrySlot),
        RPCInfo(completeAttempt), RPCInfo(listRetries), RPCInfo(resetRetry), RPCInfo(classify), RPCInfo(watch),
        RPCInfo(metrics), RPCInfo(reload), RPCInfo(prune), RPCInfo(debugSleep),
    ]
}
