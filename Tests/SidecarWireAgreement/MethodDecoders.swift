import SidecarCore
import SidecarWire

/// The decoders of one method. Its request as the daemon reads it
/// (`init(wireBytes:)`, by hand for some) against protobuf-c's reading,
/// then written back and read again, which must give the same bytes; its
/// response as the client reads it, which must only not crash.
package struct MethodDecoders: Sendable {
    package let name: String
    /// A request as a client writes it: a seed for the fuzzer and the tests.
    package let sampleRequest: [UInt8]
    private let requestAgreement: @Sendable (UnsafeRawBufferPointer) -> Agreement
    private let responseReading: @Sendable (UnsafeRawBufferPointer) -> Void

    init<Request: ProtobufCConvertible, Response: ProtobufCConvertible>(_ rpc: RPC<Request, Response>, sample: Request) {
        name = rpc.name
        sampleRequest = sample.wireBytes()
        requestAgreement = { Self.agreement(Request.self, $0) }
        responseReading = { _ = try? Response(wireBytes: $0) }
    }

    package func request(_ bytes: UnsafeRawBufferPointer) -> Agreement {
        requestAgreement(bytes)
    }

    package func readResponse(_ bytes: UnsafeRawBufferPointer) {
        responseReading(bytes)
    }

    private static func agreement<Request: ProtobufCConvertible>(_: Request.Type, _ bytes: UnsafeRawBufferPointer) -> Agreement {
        Agreement.of(
            "\(Request.self)", hand: try? Request(wireBytes: bytes), reference: try? Request(protobufCWireBytes: bytes)
        ) { read, reference in
            // Compared as written: the same bytes are the same values, and
            // a value that does not compare equal to itself cannot hide.
            let written = read.wireBytes()
            guard written == reference.wireBytes() else { return ["read \(read), protobuf-c \(reference)"] }
            guard let again = try? Request(wireBytes: written) else { return ["its own writing \(written) is refused"] }
            let rewritten = again.wireBytes()
            return rewritten == written ? [] : ["written \(written), read and written again \(rewritten)"]
        }
    }
}

extension MethodDecoders {
    private typealias M = SidecarMethods

    /// Every method of `SidecarMethods` (a test holds the list to it), each
    /// with a request that sets every field.
    package static let all: [MethodDecoders] = [
        MethodDecoders(M.health, sample: HealthRequest()),
        MethodDecoders(M.ensureImage, sample: EnsureImageRequest(
            image: "agent-base:7", leaseHolder: "runner-7/task-1", leaseTTLSeconds: 600,
            leaseHolderProcess: ProcessIdentity(pid: 4242, startTime: 987_654))),
        MethodDecoders(M.listImages, sample: ListImagesRequest()),
        MethodDecoders(M.acquireLease, sample: AcquireLeaseRequest(
            target: "agent-base", holder: "runner-7", ttlSeconds: 600, holderProcess: ProcessIdentity(pid: 31337, startTime: 123_456))),
        MethodDecoders(M.releaseLease, sample: ReleaseLeaseRequest(id: "lease-0f3a")),
        MethodDecoders(M.listLeases, sample: ListLeasesRequest()),
        MethodDecoders(M.checkDb, sample: CheckDbRequest(path: "/var/lib/agents/inbound.db", mode: .full, maxErrors: 10)),
        MethodDecoders(M.reportDbError, sample: ReportDbErrorRequest(
            path: "/var/lib/agents/inbound.db", clientID: "runner-7", message: "database disk image is malformed", sqliteCode: 11,
            ok: true)),
        MethodDecoders(M.reserveRetrySlot, sample: ReserveRetrySlotRequest(
            key: "pull:agent-base", policy: "provision", lastError: "connection reset by peer", exitCode: 125,
            image: "127.0.0.1:5000/agent:1")),
        MethodDecoders(M.completeAttempt, sample: CompleteAttemptRequest(key: "pull:agent-base", success: true, error: "exit 1")),
        MethodDecoders(M.listRetries, sample: ListRetriesRequest(state: "active", keyPrefix: "pull:")),
        MethodDecoders(M.listPolicies, sample: ListPoliciesRequest()),
        MethodDecoders(M.resetRetry, sample: ResetRetryRequest(key: "pull:agent-base")),
        MethodDecoders(M.classify, sample: ClassifyRequest(report: FailureReport(
            message: "Back-off pulling image \"agent:7\": ErrImageNeverPull — é 日本", exitCode: 125, sqliteCode: 11, image: "agent:7"))),
        MethodDecoders(M.listRules, sample: ListRulesRequest()),
        MethodDecoders(M.watch, sample: WatchRequest(topics: ["image.", "", "retry.denied"])),
        MethodDecoders(M.metrics, sample: MetricsRequest()),
        MethodDecoders(M.reload, sample: ReloadRequest()),
        MethodDecoders(M.prune, sample: PruneRequest(dryRun: true)),
        MethodDecoders(M.scrub, sample: ScrubRequest()),
        MethodDecoders(M.debugSleep, sample: SleepRequest(milliseconds: 250)),
    ]

    package static let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
}
