import SidecarCore
import SidecarWire

extension SidecarClient {
    /// Takes or renews a lease that keeps `target` (an image name or ref)
    /// from anything the sidecar removes until it expires or is released,
    /// or, with a `holderProcess` (`ProcessIdentity.of(pid:)`, `.current()`),
    /// until that process ends; a ttl of 0 then sets no time limit.
    /// Safe to repeat: the same holder (and holder process) asking again
    /// renews. Throws FAILED_PRECONDITION when the holder process is not running.
    public func acquireLease(
        target: String, holder: String, ttlSeconds: UInt32, holderProcess: ProcessIdentity? = nil, timeout: Duration? = nil
    ) async throws -> LeaseRecord {
        try await call(
            SidecarMethods.acquireLease,
            AcquireLeaseRequest(target: target, holder: holder, ttlSeconds: ttlSeconds, holderProcess: holderProcess),
            timeout: timeout)
    }

    /// Ends a lease before its TTL. Releasing a released lease is OK; an
    /// unknown id throws NOT_FOUND.
    public func releaseLease(id: String, timeout: Duration? = nil) async throws {
        _ = try await call(SidecarMethods.releaseLease, ReleaseLeaseRequest(id: id), timeout: timeout)
    }

    /// The leases held now.
    /// Every page, by id (`timeout` is per page). A caller that is not an
    /// admin sees only the leases its uid took.
    public func listLeases(timeout: Duration? = nil) async throws -> [LeaseRecord] {
        try await everyPage { token in
            let page = try await call(SidecarMethods.listLeases, ListLeasesRequest(pageToken: token), timeout: timeout)
            return (page.leases, page.nextPageToken)
        }
    }
}
