import SidecarCore
import SidecarWire

extension SidecarClient {
    /// Makes sure `image` (a name from the daemon's config or a reference) is
    /// present and intact: answered at once when it is, otherwise after the
    /// one build or pull that every concurrent caller joins. With a
    /// `leaseHolder`, a lease of `leaseTTLSeconds` is taken with the answer;
    /// with a `leaseHolderProcess` too (e.g. `.current()`), it ends when that
    /// process does, and a ttl of 0 sets no time limit.
    /// Safe to repeat. Throws NOT_FOUND (unknown image), FAILED_PRECONDITION
    /// (backing off after a failed job, or the holder process is not
    /// running), UNAVAILABLE (backend unreachable); a failed job's
    /// `SidecarError.detail` says whether it is permanent.
    public func ensureImage(
        _ image: String, leaseHolder: String = "", leaseTTLSeconds: UInt32 = 0, leaseHolderProcess: ProcessIdentity? = nil,
        timeout: Duration? = nil
    ) async throws -> EnsureImageAnswer {
        try await call(
            SidecarMethods.ensureImage,
            EnsureImageRequest(
                image: image, leaseHolder: leaseHolder, leaseTTLSeconds: leaseTTLSeconds, leaseHolderProcess: leaseHolderProcess),
            timeout: timeout
        ).answer
    }

    /// The images the daemon knows: presence, last job, back-off.
    /// Every page, by name (`timeout` is per page).
    public func listImages(timeout: Duration? = nil) async throws -> [ImageStatus] {
        try await everyPage { token in
            let page = try await call(SidecarMethods.listImages, ListImagesRequest(pageToken: token), timeout: timeout)
            return (page.images, page.nextPageToken)
        }
    }

    /// Admin: removes what no ref reaches and refs neither leased nor used
    /// lately; with `dryRun`, only says what it would remove.
    public func prune(dryRun: Bool = false, timeout: Duration? = nil) async throws -> PruneReport {
        try await call(SidecarMethods.prune, PruneRequest(dryRun: dryRun), timeout: timeout).report
    }

    /// Admin: re-hashes every blob of every present image (OCI layout) and
    /// repairs what it finds damaged; answers when that is done.
    public func scrub(timeout: Duration? = nil) async throws -> ScrubReport {
        try await call(SidecarMethods.scrub, ScrubRequest(), timeout: timeout).report
    }
}
