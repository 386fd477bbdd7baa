import SidecarCore
import SidecarProtoC

/// `Lease`: AcquireLease's answer on its own, and a field of
/// EnsureImageResponse and ListLeasesResponse.
extension LeaseRecord: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__Lease>) { sidecar__v1__lease__init(c) }

    package init(reading c: Sidecar__V1__Lease) {
        self.init(
            id: ProtobufCField.string(c.id), target: ProtobufCField.string(c.target),
            holder: ProtobufCField.string(c.holder), expiresUnixMilliseconds: c.expires_unix_ms)
    }

    package func fill(_ c: inout Sidecar__V1__Lease, arena: PackArena) {
        c.id = arena.string(id)
        c.target = arena.string(target)
        c.holder = arena.string(holder)
        c.expires_unix_ms = expiresUnixMilliseconds
    }
}

public struct AcquireLeaseRequest: Equatable, Sendable {
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
}

extension AcquireLeaseRequest: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__AcquireLeaseRequest>) {
        sidecar__v1__acquire_lease_request__init(c)
    }

    package init(reading c: Sidecar__V1__AcquireLeaseRequest) {
        self.init(target: ProtobufCField.string(c.target), holder: ProtobufCField.string(c.holder), ttlSeconds: c.ttl_seconds)
    }

    package func fill(_ c: inout Sidecar__V1__AcquireLeaseRequest, arena: PackArena) {
        c.target = arena.string(target)
        c.holder = arena.string(holder)
        c.ttl_seconds = ttlSeconds
    }
}

public struct ReleaseLeaseRequest: Equatable, Sendable {
    public var id: String

    public init(id: String) {
        self.id = id
    }
}

extension ReleaseLeaseRequest: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ReleaseLeaseRequest>) {
        sidecar__v1__release_lease_request__init(c)
    }

    package init(reading c: Sidecar__V1__ReleaseLeaseRequest) { self.init(id: ProtobufCField.string(c.id)) }
    package func fill(_ c: inout Sidecar__V1__ReleaseLeaseRequest, arena: PackArena) { c.id = arena.string(id) }
}

public struct ListLeasesResponse: Equatable, Sendable {
    public var leases: [LeaseRecord]

    public init(leases: [LeaseRecord]) {
        self.leases = leases
    }
}

extension ListLeasesResponse: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ListLeasesResponse>) {
        sidecar__v1__list_leases_response__init(c)
    }

    package init(reading c: Sidecar__V1__ListLeasesResponse) throws {
        self.init(leases: try ProtobufCField.messages(c.leases, count: c.n_leases))
    }

    package func fill(_ c: inout Sidecar__V1__ListLeasesResponse, arena: PackArena) {
        c.n_leases = leases.count
        c.leases = arena.messages(leases)
    }
}
