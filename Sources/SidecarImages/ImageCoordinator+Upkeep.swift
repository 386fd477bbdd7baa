import SidecarCore

/// What the coordinator does on its own: follow the backend's events, keep
/// `keep_warm` images present, report, and prune.
extension ImageCoordinator {
    /// Called every second or so: re-checks `keep_warm` images whose presence
    /// is unknown or has expired, and makes them again if they are gone.
    public func tick() {
        let now = clock.monotonicSeconds
        for entry in catalog.configured where entry.spec.keepWarm && entry.job == nil {
            guard now >= entry.backoffUntil, !isKnownPresent(entry, now: now) else { continue }
            ensure(entry.spec.name) { _ in }
        }
    }

    func backendReported(_ event: ImageBackendEvent) {
        switch event {
        case .removed(let ref):
            guard let entry = catalog.entry(ref: ref), entry.present != false else { return }
            markMissing(entry, how: "the backend reported it removed")
            if entry.spec.keepWarm && entry.job == nil { ensure(entry.spec.name) { _ in } }
        case .changed(let refs, _):
            for ref in refs {
                guard let entry = catalog.entry(ref: ref) else { continue }
                entry.doubt()
                if entry.spec.keepWarm && entry.job == nil && entry.present == true { ensure(entry.spec.name) { _ in } }
            }
        case .progress(let ref, let line):
            guard let entry = catalog.entry(ref: ref), let job = entry.job, let kind = job.kind else { return }
            let now = clock.monotonicSeconds
            guard now - job.lastProgressAt >= Self.progressInterval else { return }
            job.lastProgressAt = now
            let elapsed = now - (job.startedAt ?? job.createdAt)
            emit("image.job.progress", entry, "\(kind.rawValue) of \(ref) (\(DurationText.format(elapsed))): \(line)", [
                "kind": kind.rawValue, "line": line, "elapsed_seconds": String(format: "%.1f", elapsed),
                "waiters": "\(job.waiters.count)",
            ])
        case .resynchronized:
            // Removals may have been missed: what is present is checked
            // again before it is answered, keep_warm images right now.
            for entry in catalog.all { entry.doubt() }
            tick()
        }
    }

    /// At most this often a job's output becomes an `image.job.progress`
    /// event: a chatty build costs the bus a few events a second.
    static let progressInterval = 0.25

    /// Every known image, configured ones first.
    public func list() -> [ImageStatus] {
        let now = clock.monotonicSeconds
        return catalog.all.map { entry in
            let backingOff = now < entry.backoffUntil
            return ImageStatus(
                name: entry.spec.name, ref: entry.spec.ref, present: entry.present == true, baseImage: entry.spec.base,
                keepWarm: entry.spec.keepWarm, state: entry.job?.state ?? (backingOff ? .backingOff : .idle),
                lastJobOutcome: entry.lastJobOutcome, lastJobEndUnixMilliseconds: entry.lastJobEndUnixMilliseconds,
                lastError: entry.lastError?.message ?? "", backoffRemainingSeconds: backingOff ? entry.backoffUntil - now : 0)
        }
    }

    /// Removes the present images nobody asked for within
    /// `prune_unused_after`, except `keep_warm` ones, ones with a job, and
    /// ones a lease holds (checked again right before each removal).
    public func prune(dryRun: Bool, done: @escaping (PruneReport) -> Void) {
        let now = clock.monotonicSeconds
        var report = PruneReport()
        var victims: [ImageEntry] = []
        for entry in catalog.all where entry.present == true && entry.job == nil && !entry.spec.keepWarm {
            guard now - entry.lastUsed >= settings.pruneUnusedAfterSeconds else { continue }
            if isLeased(entry.leaseNames) {
                report.keptLeased.append(entry.spec.name)
            } else {
                victims.append(entry)
            }
        }
        if dryRun {
            report.removed = victims.map(\.spec.name)
            return collectGarbage(report, dryRun: true, done: done)
        }
        removeEach(victims[...], report: report, done: done)
    }

    private func removeEach(_ victims: ArraySlice<ImageEntry>, report: PruneReport, done: @escaping (PruneReport) -> Void) {
        guard let entry = victims.first else { return collectGarbage(report, done: done) }
        var report = report
        let rest = victims.dropFirst()
        // A lease or a job may have arrived while the previous removal ran.
        if isLeased(entry.leaseNames) {
            report.keptLeased.append(entry.spec.name)
            return removeEach(rest, report: report, done: done)
        }
        guard entry.job == nil else { return removeEach(rest, report: report, done: done) }
        backend.remove(entry.spec) { [self] result in
            switch result {
            case .success:
                entry.present = false
                entry.id = ""
                report.removed.append(entry.spec.name)
                emit("image.pruned", entry, "\(entry.spec.ref) removed by prune")
            case .failure(let failure):
                emit("image.prune_failed", entry, "could not remove \(entry.spec.ref): \(failure.message)")
            }
            removeEach(rest, report: report, done: done)
        }
    }

    /// Lets the backend free what the removed images left unreachable.
    private func collectGarbage(_ report: PruneReport, dryRun: Bool = false, done: @escaping (PruneReport) -> Void) {
        backend.collectGarbage(dryRun: dryRun) { [self] result in
            var report = report
            switch result {
            case .success(let freed):
                report.removed += freed.removed
                report.bytesFreed += freed.bytesFreed
            case .failure(let failure):
                onEvent?(ImageEvent(topic: "image.prune_failed", subject: "", message: "garbage collection: \(failure.message)"))
            }
            done(report)
        }
    }
}
