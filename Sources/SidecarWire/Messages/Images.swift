import SidecarCore
import SidecarProtoC

extension ImageOutcome {
    /// nil for OUTCOME_UNSPECIFIED (or a value this build does not know):
    /// a successful answer always names its outcome.
    init?(wire: Sidecar__V1__EnsureImageResponse__Outcome) {
        switch wire {
        case SIDECAR__V1__ENSURE_IMAGE_RESPONSE__OUTCOME__PRESENT: self = .present
        case SIDECAR__V1__ENSURE_IMAGE_RESPONSE__OUTCOME__BUILT: self = .built
        case SIDECAR__V1__ENSURE_IMAGE_RESPONSE__OUTCOME__PULLED: self = .pulled
        case SIDECAR__V1__ENSURE_IMAGE_RESPONSE__OUTCOME__REPAIRED: self = .repaired
        case SIDECAR__V1__ENSURE_IMAGE_RESPONSE__OUTCOME__STALE: self = .stale
        default: return nil
        }
    }

    var wire: Sidecar__V1__EnsureImageResponse__Outcome {
        switch self {
        case .present: SIDECAR__V1__ENSURE_IMAGE_RESPONSE__OUTCOME__PRESENT
        case .built: SIDECAR__V1__ENSURE_IMAGE_RESPONSE__OUTCOME__BUILT
        case .pulled: SIDECAR__V1__ENSURE_IMAGE_RESPONSE__OUTCOME__PULLED
        case .repaired: SIDECAR__V1__ENSURE_IMAGE_RESPONSE__OUTCOME__REPAIRED
        case .stale: SIDECAR__V1__ENSURE_IMAGE_RESPONSE__OUTCOME__STALE
        }
    }
}

/// `ImageInfo`: one entry of ListImagesResponse.
extension ImageStatus: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ImageInfo>) { sidecar__v1__image_info__init(c) }

    /// A state this build does not know (a newer daemon's) reads as idle.
    package init(reading c: Sidecar__V1__ImageInfo) {
        self.init(
            name: ProtobufCField.string(c.name), ref: ProtobufCField.string(c.ref), present: c.present != 0,
            baseImage: ProtobufCField.string(c.base_image), keepWarm: c.keep_warm != 0,
            state: State(rawValue: ProtobufCField.string(c.state)) ?? .idle,
            lastJobOutcome: ProtobufCField.string(c.last_job_outcome),
            lastJobEndUnixMilliseconds: c.last_job_end_unix_ms, lastError: ProtobufCField.string(c.last_error),
            backoffRemainingSeconds: c.backoff_remaining_seconds)
    }

    package func fill(_ c: inout Sidecar__V1__ImageInfo, arena: PackArena) {
        c.name = arena.string(name)
        c.ref = arena.string(ref)
        c.present = present ? 1 : 0
        c.base_image = arena.string(baseImage)
        c.keep_warm = keepWarm ? 1 : 0
        c.state = arena.string(state.rawValue)
        c.last_job_outcome = arena.string(lastJobOutcome)
        c.last_job_end_unix_ms = lastJobEndUnixMilliseconds
        c.last_error = arena.string(lastError)
        c.backoff_remaining_seconds = backoffRemainingSeconds
    }
}

public struct EnsureImageRequest: Equatable, Sendable {
    /// An image name from the config ("agent-base") or a reference.
    public var image: String
    /// When not empty, a lease on the image is taken for this holder with the answer.
    public var leaseHolder: String
    /// 0: the default, or with a holder process no time limit.
    public var leaseTTLSeconds: UInt32
    /// The process the lease ends with, if any.
    public var leaseHolderProcess: ProcessIdentity?

    public init(image: String, leaseHolder: String = "", leaseTTLSeconds: UInt32 = 0, leaseHolderProcess: ProcessIdentity? = nil) {
        self.image = image
        self.leaseHolder = leaseHolder
        self.leaseTTLSeconds = leaseTTLSeconds
        self.leaseHolderProcess = leaseHolderProcess
    }
}

extension EnsureImageRequest: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__EnsureImageRequest>) { sidecar__v1__ensure_image_request__init(c) }

    package init(reading c: Sidecar__V1__EnsureImageRequest) {
        self.init(
            image: ProtobufCField.string(c.image), leaseHolder: ProtobufCField.string(c.lease_holder),
            leaseTTLSeconds: c.lease_ttl_seconds,
            leaseHolderProcess: WireHolderProcess.read(pid: c.lease_holder_pid, startTime: c.lease_holder_start_time))
    }

    package func fill(_ c: inout Sidecar__V1__EnsureImageRequest, arena: PackArena) {
        c.image = arena.string(image)
        c.lease_holder = arena.string(leaseHolder)
        c.lease_ttl_seconds = leaseTTLSeconds
        c.lease_holder_pid = WireHolderProcess.pid(leaseHolderProcess)
        c.lease_holder_start_time = leaseHolderProcess?.startTime ?? 0
    }
}

public struct EnsureImageResponse: Equatable, Sendable {
    public var answer: EnsureImageAnswer

    public init(answer: EnsureImageAnswer) {
        self.answer = answer
    }
}

extension EnsureImageResponse: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__EnsureImageResponse>) {
        sidecar__v1__ensure_image_response__init(c)
    }

    package init(reading c: Sidecar__V1__EnsureImageResponse) throws {
        guard let outcome = ImageOutcome(wire: c.outcome) else {
            throw WireDecodingError("EnsureImageResponse has no outcome")
        }
        self.init(answer: EnsureImageAnswer(
            outcome: outcome, name: ProtobufCField.string(c.name), ref: ProtobufCField.string(c.ref),
            id: ProtobufCField.string(c.id), coalesced: c.coalesced != 0, jobSeconds: c.job_seconds,
            detail: ProtobufCField.string(c.detail), lease: c.lease.map { LeaseRecord(reading: $0.pointee) },
            queuedBehind: c.queued_behind))
    }

    package func fill(_ c: inout Sidecar__V1__EnsureImageResponse, arena: PackArena) {
        c.outcome = answer.outcome.wire
        c.name = arena.string(answer.name)
        c.ref = arena.string(answer.ref)
        c.id = arena.string(answer.id)
        c.coalesced = answer.coalesced ? 1 : 0
        c.job_seconds = answer.jobSeconds
        c.detail = arena.string(answer.detail)
        c.lease = answer.lease.map { arena.message($0) }
        c.queued_behind = answer.queuedBehind
    }
}

public struct ListImagesRequest: Equatable, Sendable {
    /// 0: the daemon's default (1,000).
    public var pageSize: UInt32
    public var pageToken: String

    public init(pageSize: UInt32 = 0, pageToken: String = "") {
        self.pageSize = pageSize
        self.pageToken = pageToken
    }
}

extension ListImagesRequest: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ListImagesRequest>) {
        sidecar__v1__list_images_request__init(c)
    }

    package init(reading c: Sidecar__V1__ListImagesRequest) {
        self.init(pageSize: c.page_size, pageToken: ProtobufCField.string(c.page_token))
    }

    package func fill(_ c: inout Sidecar__V1__ListImagesRequest, arena: PackArena) {
        c.page_size = pageSize
        c.page_token = arena.string(pageToken)
    }
}

public struct ListImagesResponse: Equatable, Sendable {
    public var images: [ImageStatus]
    /// Empty on the last page.
    public var nextPageToken: String

    public init(images: [ImageStatus], nextPageToken: String = "") {
        self.images = images
        self.nextPageToken = nextPageToken
    }
}

extension ListImagesResponse: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ListImagesResponse>) {
        sidecar__v1__list_images_response__init(c)
    }

    package init(reading c: Sidecar__V1__ListImagesResponse) throws {
        self.init(
            images: try ProtobufCField.messages(c.images, count: c.n_images), nextPageToken: ProtobufCField.string(c.next_page_token))
    }

    package func fill(_ c: inout Sidecar__V1__ListImagesResponse, arena: PackArena) {
        c.n_images = images.count
        c.images = arena.messages(images)
        c.next_page_token = arena.string(nextPageToken)
    }
}
