import SidecarCore
import SidecarWire

extension SidecarClient {
    /// Takes or renews a lease that keeps `target` (an image name or ref)
    /// from anything the sidecar removes until it expires or is released.
    /// Safe to repeat: the same holder asking again renews.
    public func acquireLease(target: String, holder: String, ttlSeconds: UInt32, timeout: Duration? = nil) async throws -> LeaseRecord {
        try await call(
            SidecarMethods.acquireLease, AcquireLeaseRequest(target: target, holder: holder, ttlSeconds: ttlSeconds),
            timeout: timeout)
    }

    /// Ends a lease before its TTL. Releasing a released lease is OK; an
    /// unknown id throws NOT_FOUND.
    public func releaseLease(id: String, timeout: Duration? = nil) async throws {
        _ = try await call(SidecarMethods.releaseLease, ReleaseLeaseRequest(id: id), timeout: timeout)
    }

    /// The leases held now.
    public func listLeases(timeout: Duration? = nil) async throws -> [LeaseRecord] {
        try await call(SidecarMethods.listLeases, ListLeasesRequest(), timeout: timeout).leases
    }
}
