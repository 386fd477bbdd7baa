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

extension ImageStatus {
    /// A state this build does not know (a newer daemon's) reads as idle.
    init(wire info: Sidecar__V1__ImageInfo) {
        self.init(
            name: ProtobufCField.string(info.name), ref: ProtobufCField.string(info.ref), present: info.present != 0,
            baseImage: ProtobufCField.string(info.base_image), keepWarm: info.keep_warm != 0,
            state: State(rawValue: ProtobufCField.string(info.state)) ?? .idle,
            lastJobOutcome: ProtobufCField.string(info.last_job_outcome),
            lastJobEndUnixMilliseconds: info.last_job_end_unix_ms, lastError: ProtobufCField.string(info.last_error),
            backoffRemainingSeconds: info.backoff_remaining_seconds)
    }

    /// Fills `info`, already initialized, with C copies owned by `arena`.
    func fill(_ info: inout Sidecar__V1__ImageInfo, arena: PackArena) {
        info.name = arena.string(name)
        info.ref = arena.string(ref)
        info.present = present ? 1 : 0
        info.base_image = arena.string(baseImage)
        info.keep_warm = keepWarm ? 1 : 0
        info.state = arena.string(state.rawValue)
        info.last_job_outcome = arena.string(lastJobOutcome)
        info.last_job_end_unix_ms = lastJobEndUnixMilliseconds
        info.last_error = arena.string(lastError)
        info.backoff_remaining_seconds = backoffRemainingSeconds
    }
}

public struct EnsureImageRequest: WireMessage, Equatable {
    /// An image name from the config ("agent-base") or a reference.
    public var image: String
    /// When not empty, a lease on the image is taken for this holder with the answer.
    public var leaseHolder: String
    public var leaseTTLSeconds: UInt32

    public init(image: String, leaseHolder: String = "", leaseTTLSeconds: UInt32 = 0) {
        self.image = image
        self.leaseHolder = leaseHolder
        self.leaseTTLSeconds = leaseTTLSeconds
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "EnsureImageRequest",
            unpack: { sidecar__v1__ensure_image_request__unpack(nil, $0, $1) },
            free: { sidecar__v1__ensure_image_request__free_unpacked($0, nil) }
        ) { c in
            EnsureImageRequest(
                image: ProtobufCField.string(c.image), leaseHolder: ProtobufCField.string(c.lease_holder),
                leaseTTLSeconds: c.lease_ttl_seconds)
        }
    }

    package func wireBytes() -> [UInt8] {
        let arena = PackArena()
        var c = Sidecar__V1__EnsureImageRequest()
        sidecar__v1__ensure_image_request__init(&c)
        c.image = arena.string(image)
        c.lease_holder = arena.string(leaseHolder)
        c.lease_ttl_seconds = leaseTTLSeconds
        return withExtendedLifetime(arena) {
            ProtobufCField.pack(
                &c, size: { sidecar__v1__ensure_image_request__get_packed_size($0) },
                pack: { sidecar__v1__ensure_image_request__pack($0, $1) })
        }
    }
}

public struct EnsureImageResponse: WireMessage, Equatable {
    public var answer: EnsureImageAnswer

    public init(answer: EnsureImageAnswer) {
        self.answer = answer
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "EnsureImageResponse",
            unpack: { sidecar__v1__ensure_image_response__unpack(nil, $0, $1) },
            free: { sidecar__v1__ensure_image_response__free_unpacked($0, nil) }
        ) { c in
            guard let outcome = ImageOutcome(wire: c.outcome) else {
                throw WireDecodingError("EnsureImageResponse has no outcome")
            }
            return EnsureImageResponse(answer: EnsureImageAnswer(
                outcome: outcome, name: ProtobufCField.string(c.name), ref: ProtobufCField.string(c.ref),
                id: ProtobufCField.string(c.id), coalesced: c.coalesced != 0, jobSeconds: c.job_seconds,
                detail: ProtobufCField.string(c.detail), lease: c.lease.map { LeaseRecord(wire: $0.pointee) }))
        }
    }

    package func wireBytes() -> [UInt8] {
        let arena = PackArena()
        var c = Sidecar__V1__EnsureImageResponse()
        sidecar__v1__ensure_image_response__init(&c)
        c.outcome = answer.outcome.wire
        c.name = arena.string(answer.name)
        c.ref = arena.string(answer.ref)
        c.id = arena.string(answer.id)
        c.coalesced = answer.coalesced ? 1 : 0
        c.job_seconds = answer.jobSeconds
        c.detail = arena.string(answer.detail)
        c.lease = answer.lease.map { $0.wire(in: arena) }
        return withExtendedLifetime(arena) {
            ProtobufCField.pack(
                &c, size: { sidecar__v1__ensure_image_response__get_packed_size($0) },
                pack: { sidecar__v1__ensure_image_response__pack($0, $1) })
        }
    }
}

public struct ListImagesRequest: WireMessage, Equatable {
    public init() {}

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        // No fields: empty bytes are the whole message, nothing to unpack.
        guard !wireBytes.isEmpty else { return }
        try ProtobufCField.unpack(
            wireBytes, name: "ListImagesRequest",
            unpack: { sidecar__v1__list_images_request__unpack(nil, $0, $1) },
            free: { sidecar__v1__list_images_request__free_unpacked($0, nil) }
        ) { _ in () }
    }

    package func wireBytes() -> [UInt8] { [] }
}

public struct ListImagesResponse: WireMessage, Equatable {
    public var images: [ImageStatus]

    public init(images: [ImageStatus]) {
        self.images = images
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "ListImagesResponse",
            unpack: { sidecar__v1__list_images_response__unpack(nil, $0, $1) },
            free: { sidecar__v1__list_images_response__free_unpacked($0, nil) }
        ) { c in
            ListImagesResponse(images: (0..<c.n_images).compactMap { index in
                c.images[index].map { ImageStatus(wire: $0.pointee) }
            })
        }
    }

    package func wireBytes() -> [UInt8] {
        let arena = PackArena()
        var c = Sidecar__V1__ListImagesResponse()
        sidecar__v1__list_images_response__init(&c)
        let infos = arena.array(of: Sidecar__V1__ImageInfo.self, count: images.count)
        let pointers = arena.array(of: UnsafeMutablePointer<Sidecar__V1__ImageInfo>?.self, count: images.count)
        for (index, image) in images.enumerated() {
            sidecar__v1__image_info__init(infos + index)
            image.fill(&infos[index], arena: arena)
            pointers[index] = infos + index
        }
        c.n_images = images.count
        c.images = images.isEmpty ? nil : pointers
        return withExtendedLifetime(arena) {
            ProtobufCField.pack(
                &c, size: { sidecar__v1__list_images_response__get_packed_size($0) },
                pack: { sidecar__v1__list_images_response__pack($0, $1) })
        }
    }
}
