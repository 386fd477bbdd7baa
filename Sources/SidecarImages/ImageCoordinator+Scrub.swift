import SidecarCore

/// The scrub: every blob of every present image hashed again (damage
/// beneath the file system raises no event and keeps the file's stamp), and
/// what it finds damaged repaired the way any damage is.
extension ImageCoordinator {
    /// How presence is kept: "events", or "ttl: " and why not.
    public var presenceTracking: String { backend.presenceTracking }

    /// One scrub at a time: a call while one runs is answered with that one.
    public func scrub(_ done: @escaping (Result<ScrubReport, SidecarError>) -> Void) {
        guard backend.canScrub else {
            return done(.failure(SidecarError(
                .failedPrecondition, "the image backend keeps no blobs of its own to hash: only images.backend = \"oci-layout\" scrubs")))
        }
        if scrubWaiters != nil {
            scrubWaiters!.append(done)
            return
        }
        scrubWaiters = [done]
        var refs: [String] = []
        for entry in catalog.all where entry.present == true && !refs.contains(entry.spec.ref) { refs.append(entry.spec.ref) }
        backend.scrub(refs: refs, bytesPerSecond: settings.scrubBytesPerSecond) { [self] result in
            switch result {
            case .success(let report):
                repair(report) { [self] report in
                    emit(report)
                    endScrub(.success(report))
                }
            case .failure(let failure):
                endScrub(.failure(SidecarError(.unavailable, "the scrub failed: \(failure.message)")))
            }
        }
    }

    /// Makes each damaged image again (its check now hashes the blobs the
    /// scrub found bad), and says how each repair went.
    private func repair(_ report: ScrubReport, then done: @escaping (ScrubReport) -> Void) {
        var report = report
        var pending = report.damaged.count
        guard pending > 0 else { return done(report) }
        for (position, finding) in report.damaged.enumerated() {
            let entry = catalog.entry(ref: finding.ref)
            entry?.doubt()
            ensure(entry?.spec.name ?? finding.ref) { result in
                switch result {
                case .success(let answer): report.damaged[position].repair = answer.outcome.rawValue
                case .failure(let error): report.damaged[position].repair = "FAILED: \(error.message)"
                }
                pending -= 1
                if pending == 0 { done(report) }
            }
        }
    }

    private func emit(_ report: ScrubReport) {
        let summary = "scrub hashed \(report.blobs) blob(s) of \(report.images) image(s), \(report.bytes) bytes, "
            + "in \(DurationText.format(report.seconds)): \(report.damaged.count) damaged"
        onEvent?(ImageEvent(topic: "image.scrubbed", subject: "", message: summary, attributes: [
            "images": "\(report.images)", "blobs": "\(report.blobs)", "bytes": "\(report.bytes)",
            "damaged": "\(report.damaged.count)", "skipped_blobs": "\(report.skippedBlobs)",
        ]))
    }

    private func endScrub(_ result: Result<ScrubReport, SidecarError>) {
        let waiters = scrubWaiters ?? []
        scrubWaiters = nil
        for waiter in waiters { waiter(result) }
    }
}
