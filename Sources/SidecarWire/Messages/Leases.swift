import SidecarCore
import SidecarProtoC

/// `Lease`: AcquireLease's answer on its own, and a field of
/// EnsureImageResponse and ListLeasesResponse.
extension LeaseRecord: WireMessage {
    init(wire lease: Sidecar__V1__Lease) {
        self.init(
            id: ProtobufCField.string(lease.id), target: ProtobufCField.string(lease.target),
            holder: ProtobufCField.string(lease.holder), expiresUnixMilliseconds: lease.expires_unix_ms)
    }

    /// Fills `lease`, already initialized, with C copies owned by `arena`.
    func fill(_ lease: inout Sidecar__V1__Lease, arena: PackArena) {
        lease.id = arena.string(id)
        lease.target = arena.string(target)
        lease.holder = arena.string(holder)
        lease.expires_unix_ms = expiresUnixMilliseconds
    }

    /// A C copy owned by `arena`, for a field that holds a `Lease`.
    func wire(in arena: PackArena) -> UnsafeMutablePointer<Sidecar__V1__Lease> {
        let lease = arena.array(of: Sidecar__V1__Lease.self, count: 1)
        sidecar__v1__lease__init(lease)
        fill(&lease.pointee, arena: arena)
        return lease
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "Lease",
            unpack: { sidecar__v1__lease__unpack(nil, $0, $1) },
            free: { sidecar__v1__lease__free_unpacked($0, nil) }
        ) { c in LeaseRecord(wire: c) }
    }

    package func wireBytes() -> [UInt8] {
        let arena = PackArena()
        var c = Sidecar__V1__Lease()
        sidecar__v1__lease__init(&c)
        fill(&c, arena: arena)
        return withExtendedLifetime(arena) {
            ProtobufCField.pack(
                &c, size: { sidecar__v1__lease__get_packed_size($0) },
                pack: { sidecar__v1__lease__pack($0, $1) })
        }
    }
}

public struct AcquireLeaseRequest: WireMessage, Equatable {
    /// What the lease keeps: an image name or ref.
    public var target: String
    /// Who holds it, e.g. "runner-7/task-ebdf2deb".
    public var holder: String
    public var ttlSeconds: UInt32

    public init(target: String, holder: String, ttlSeconds: UInt32) {
        self.target = target
        self.holder = holder
        self.ttlSeconds = ttlSeconds
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "AcquireLeaseRequest",
            unpack: { sidecar__v1__acquire_lease_request__unpack(nil, $0, $1) },
            free: { sidecar__v1__acquire_lease_request__free_unpacked($0, nil) }
        ) { c in
            AcquireLeaseRequest(
                target: ProtobufCField.string(c.target), holder: ProtobufCField.string(c.holder), ttlSeconds: c.ttl_seconds)
        }
    }

    package func wireBytes() -> [UInt8] {
        let arena = PackArena()
        var c = Sidecar__V1__AcquireLeaseRequest()
        sidecar__v1__acquire_lease_request__init(&c)
        c.target = arena.string(target)
        c.holder = arena.string(holder)
        c.ttl_seconds = ttlSeconds
        return withExtendedLifetime(arena) {
            ProtobufCField.pack(
                &c, size: { sidecar__v1__acquire_lease_request__get_packed_size($0) },
                pack: { sidecar__v1__acquire_lease_request__pack($0, $1) })
        }
    }
}

public struct ReleaseLeaseRequest: WireMessage, Equatable {
    public var id: String

    public init(id: String) {
        self.id = id
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "ReleaseLeaseRequest",
            unpack: { sidecar__v1__release_lease_request__unpack(nil, $0, $1) },
            free: { sidecar__v1__release_lease_request__free_unpacked($0, nil) }
        ) { c in ReleaseLeaseRequest(id: ProtobufCField.string(c.id)) }
    }

    package func wireBytes() -> [UInt8] {
        let arena = PackArena()
        var c = Sidecar__V1__ReleaseLeaseRequest()
        sidecar__v1__release_lease_request__init(&c)
        c.id = arena.string(id)
        return withExtendedLifetime(arena) {
            ProtobufCField.pack(
                &c, size: { sidecar__v1__release_lease_request__get_packed_size($0) },
                pack: { sidecar__v1__release_lease_request__pack($0, $1) })
        }
    }
}

/// `ReleaseLeaseResponse` has no fields: it is the shared empty answer.
public typealias ReleaseLeaseResponse = EmptyResponse

public struct ListLeasesRequest: WireMessage, Equatable {
    public init() {}

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        // No fields: empty bytes are the whole message, nothing to unpack.
        guard !wireBytes.isEmpty else { return }
        try ProtobufCField.unpack(
            wireBytes, name: "ListLeasesRequest",
            unpack: { sidecar__v1__list_leases_request__unpack(nil, $0, $1) },
            free: { sidecar__v1__list_leases_request__free_unpacked($0, nil) }
        ) { _ in () }
    }

    package func wireBytes() -> [UInt8] { [] }
}

public struct ListLeasesResponse: WireMessage, Equatable {
    public var leases: [LeaseRecord]

    public init(leases: [LeaseRecord]) {
        self.leases = leases
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "ListLeasesResponse",
            unpack: { sidecar__v1__list_leases_response__unpack(nil, $0, $1) },
            free: { sidecar__v1__list_leases_response__free_unpacked($0, nil) }
        ) { c in
            ListLeasesResponse(leases: (0..<c.n_leases).compactMap { index in
                c.leases[index].map { LeaseRecord(wire: $0.pointee) }
            })
        }
    }

    package func wireBytes() -> [UInt8] {
        let arena = PackArena()
        var c = Sidecar__V1__ListLeasesResponse()
        sidecar__v1__list_leases_response__init(&c)
        let pointers = arena.array(of: UnsafeMutablePointer<Sidecar__V1__Lease>?.self, count: leases.count)
        for (index, lease) in leases.enumerated() {
            pointers[index] = lease.wire(in: arena)
        }
        c.n_leases = leases.count
        c.leases = leases.isEmpty ? nil : pointers
        return withExtendedLifetime(arena) {
            ProtobufCField.pack(
                &c, size: { sidecar__v1__list_leases_response__get_packed_size($0) },
                pack: { sidecar__v1__list_leases_response__pack($0, $1) })
        }
    }
}
