import SidecarCore
import SidecarProtoC

/// A holder process on the wire: a pid and its start time, both 0 when the
/// lease is bound to no process. A pid without a start time is kept (start
/// time 0) for the daemon to refuse.
enum WireHolderProcess {
    static func read(pid: UInt32, startTime: UInt64) -> ProcessIdentity? {
        pid == 0 ? nil : ProcessIdentity(pid: Int32(truncatingIfNeeded: pid), startTime: startTime)
    }

    static func pid(_ process: ProcessIdentity?) -> UInt32 { UInt32(truncatingIfNeeded: process?.pid ?? 0) }
}

/// `Lease`: AcquireLease's answer on its own, and a field of
/// EnsureImageResponse and ListLeasesResponse. A lease with no time limit
/// says expires_unix_ms 0.
extension LeaseRecord: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__Lease>) { sidecar__v1__lease__init(c) }

    package init(reading c: Sidecar__V1__Lease) {
        self.init(
            id: ProtobufCField.string(c.id), target: ProtobufCField.string(c.target),
            holder: ProtobufCField.string(c.holder), expiresUnixMilliseconds: c.expires_unix_ms == 0 ? Self.noExpiry : c.expires_unix_ms,
            holderProcess: WireHolderProcess.read(pid: c.holder_pid, startTime: c.holder_start_time),
            ownerUID: c.optional_owner_uid_case == SIDECAR__V1__LEASE__OPTIONAL_OWNER_UID_OWNER_UID ? c.owner_uid : nil)
    }

    package func fill(_ c: inout Sidecar__V1__Lease, arena: PackArena) {
        c.id = arena.string(id)
        c.target = arena.string(target)
        c.holder = arena.string(holder)
        c.expires_unix_ms = expiresByTime ? expiresUnixMilliseconds : 0
        c.holder_pid = WireHolderProcess.pid(holderProcess)
        c.holder_start_time = holderProcess?.startTime ?? 0
        if let ownerUID {
            c.optional_owner_uid_case = SIDECAR__V1__LEASE__OPTIONAL_OWNER_UID_OWNER_UID
            c.owner_uid = ownerUID
        }
    }
}

public struct AcquireLeaseRequest: Equatable, Sendable {
    /// What the lease keeps: an image name or ref.
    public var target: String
    /// Who holds it, e.g. "runner-7/task-ebdf2deb".
    public var holder: String
    /// 0 with a holder process: as long as that process lives.
    public var ttlSeconds: UInt32
    /// The process the lease ends with, if any.
    public var holderProcess: ProcessIdentity?

    public init(target: String, holder: String, ttlSeconds: UInt32, holderProcess: ProcessIdentity? = nil) {
        self.target = target
        self.holder = holder
        self.ttlSeconds = ttlSeconds
        self.holderProcess = holderProcess
    }
}

extension AcquireLeaseRequest: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__AcquireLeaseRequest>) {
        sidecar__v1__acquire_lease_request__init(c)
    }

    package init(reading c: Sidecar__V1__AcquireLeaseRequest) {
        self.init(
            target: ProtobufCField.string(c.target), holder: ProtobufCField.string(c.holder), ttlSeconds: c.ttl_seconds,
            holderProcess: WireHolderProcess.read(pid: c.holder_pid, startTime: c.holder_start_time))
    }

    package func fill(_ c: inout Sidecar__V1__AcquireLeaseRequest, arena: PackArena) {
        c.target = arena.string(target)
        c.holder = arena.string(holder)
        c.ttl_seconds = ttlSeconds
        c.holder_pid = WireHolderProcess.pid(holderProcess)
        c.holder_start_time = holderProcess?.startTime ?? 0
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

public struct ListLeasesRequest: Equatable, Sendable {
    /// 0: the daemon's default (1,000).
    public var pageSize: UInt32
    public var pageToken: String

    public init(pageSize: UInt32 = 0, pageToken: String = "") {
        self.pageSize = pageSize
        self.pageToken = pageToken
    }
}

extension ListLeasesRequest: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ListLeasesRequest>) {
        sidecar__v1__list_leases_request__init(c)
    }

    package init(reading c: Sidecar__V1__ListLeasesRequest) {
        self.init(pageSize: c.page_size, pageToken: ProtobufCField.string(c.page_token))
    }

    package func fill(_ c: inout Sidecar__V1__ListLeasesRequest, arena: PackArena) {
        c.page_size = pageSize
        c.page_token = arena.string(pageToken)
    }
}

public struct ListLeasesResponse: Equatable, Sendable {
    public var leases: [LeaseRecord]
    /// Empty on the last page.
    public var nextPageToken: String

    public init(leases: [LeaseRecord], nextPageToken: String = "") {
        self.leases = leases
        self.nextPageToken = nextPageToken
    }
}

extension ListLeasesResponse: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ListLeasesResponse>) {
        sidecar__v1__list_leases_response__init(c)
    }

    package init(reading c: Sidecar__V1__ListLeasesResponse) throws {
        self.init(
            leases: try ProtobufCField.messages(c.leases, count: c.n_leases), nextPageToken: ProtobufCField.string(c.next_page_token))
    }

    package func fill(_ c: inout Sidecar__V1__ListLeasesResponse, arena: PackArena) {
        c.n_leases = leases.count
        c.leases = arena.messages(leases)
        c.next_page_token = arena.string(nextPageToken)
    }
}
