import SidecarConfig
import SidecarCore

/// Makes sure images are present: answers from the presence cache when it
/// can, otherwise runs one job per image that every concurrent caller joins,
/// bases first, under the host's build and pull caps, and backs an image off
/// after a failed job. Loop thread only; pure apart from the backend.
///
/// A job is never cancelled: a caller that leaves (cancels, disconnects,
/// times out) only stops being answered, and the others keep waiting.
public final class ImageCoordinator {
    public typealias Reply = (Result<EnsureImageAnswer, SidecarError>) -> Void

    /// Heard on every job start and end, removal and prune.
    public var onEvent: ((ImageEvent) -> Void)?
    /// Whether a live lease holds any of these names (an image's name and ref).
    public var isLeased: ([String]) -> Bool = { _ in false }

    private(set) public var settings: ImageSettings
    let backend: ImageBackend
    let clock: ImageClock
    var classifier: ErrorClassifier
    private(set) var catalog: ImageCatalog
    private var queues = JobQueues()
    private var pumping = false
    private var waiterJobs: [UInt64: ImageJob] = [:]
    private var nextToken: UInt64 = 1
    /// Who waits for the scrub that runs now; nil when none runs.
    var scrubWaiters: [(Result<ScrubReport, SidecarError>) -> Void]?

    public init(images: DaemonConfig.ImagesConfig, backend: ImageBackend, clock: ImageClock, classifier: ErrorClassifier) {
        settings = ImageSettings(images)
        self.backend = backend
        self.clock = clock
        self.classifier = classifier
        catalog = ImageCatalog(specs: images.images, now: clock.monotonicSeconds)
        backend.onEvent = { [unowned self] event in backendReported(event) }
    }

    /// A reload: new caps, timings and images. Jobs in flight finish as they
    /// started.
    public func configure(images: DaemonConfig.ImagesConfig, classifier: ErrorClassifier) {
        settings = ImageSettings(images)
        self.classifier = classifier
        catalog.replaceSpecs(images.images, now: clock.monotonicSeconds)
        pump()
    }

    // MARK: EnsureImage

    /// Answers `reply` once, now or when the image's job ends. Returns a token
    /// for `leave` when the answer is still to come.
    @discardableResult
    public func ensure(_ nameOrRef: String, reply: @escaping Reply) -> UInt64? {
        let entry: ImageEntry
        switch catalog.resolve(nameOrRef, now: clock.monotonicSeconds) {
        case .success(let found): entry = found
        case .failure(let error):
            reply(.failure(error))
            return nil
        }
        let now = clock.monotonicSeconds
        entry.lastUsed = now
        if let job = entry.job { return join(job, reply, coalesced: true) }
        // A change made before this call must not be answered PRESENT.
        backend.deliverPendingEvents()
        if isKnownPresent(entry, now: now) {
            reply(.success(EnsureImageAnswer(outcome: .present, name: entry.spec.name, ref: entry.spec.ref, id: entry.id)))
            return nil
        }
        if now < entry.backoffUntil, let last = entry.lastError {
            reply(.failure(ImageFailures.backingOff(entry, last: last, remaining: entry.backoffUntil - now)))
            return nil
        }
        let job = ImageJob(entry: entry, now: now)
        entry.job = job
        let token = join(job, reply, coalesced: false)
        checkPresence(job)
        return token
    }

    /// What `ensure` would answer PRESENT at once (an image known present,
    /// with no job and nothing doubted), marked used, for a caller that
    /// answers it without a reply closure, the name or ref given as the
    /// request's UTF-8 bytes. The entry is found by those bytes, and the
    /// answer is `encode(name, ref, id)`, made once and kept with the entry
    /// until one of them changes; `write` gets it. False, with nothing
    /// written, when `ensure` must decide (no entry yet for the bytes
    /// included).
    public func writePresentAnswer(
        utf8 nameOrRef: UnsafeRawBufferPointer, encode: (String, String, String) -> [UInt8],
        write: (UnsafeRawBufferPointer) -> Void
    ) -> Bool {
        guard let entry = catalog.existingEntry(utf8: nameOrRef), entry.job == nil else { return false }
        let now = clock.monotonicSeconds
        backend.deliverPendingEvents()
        guard isKnownPresent(entry, now: now) else { return false }
        entry.lastUsed = now
        if entry.encodedPresentAnswer == nil { entry.encodedPresentAnswer = encode(entry.spec.name, entry.spec.ref, entry.id) }
        entry.encodedPresentAnswer!.withUnsafeBytes(write)
        return true
    }

    /// Jobs running and jobs waiting for a slot, by kind (for the metrics).
    public func jobCounts(_ kind: ImageJobKind) -> (running: Int, queued: Int) {
        (queues.running[kind, default: 0], queues.queuedCount(kind))
    }

    /// The caller behind `token` no longer wants its answer; its job goes on.
    public func leave(_ token: UInt64) {
        waiterJobs.removeValue(forKey: token)?.remove(token)
    }

    private func join(_ job: ImageJob, _ reply: @escaping Reply, coalesced: Bool) -> UInt64 {
        let token = nextToken
        nextToken += 1
        job.add(token, ImageJob.Waiter(reply: reply, coalesced: coalesced))
        waiterJobs[token] = job
        return token
    }

    /// Present, and confirmed since the last doubt: for a backend whose
    /// events report every removal, until one does (or the stream is lost);
    /// otherwise for the presence TTL.
    func isKnownPresent(_ entry: ImageEntry, now: Double) -> Bool {
        guard entry.present == true else { return false }
        return backend.reportsEvents ? entry.verifiedAt > -.infinity : now - entry.verifiedAt < settings.presenceTTLSeconds
    }

    // MARK: A job, step by step

    private func checkPresence(_ job: ImageJob) {
        let entry = job.entry
        job.state = .checking
        let doubts = entry.doubts
        backend.presence(of: entry.spec) { [self] result in
            switch result {
            case .success(.present(let id)):
                markPresent(entry, id: id, unlessDoubtedSince: doubts)
                finish(job, .success(EnsureImageAnswer(outcome: .present, name: entry.spec.name, ref: entry.spec.ref, id: id)))
            case .success(.missing):
                markMissing(entry, how: "a presence check found it missing")
                afterMissing(job)
            case .success(.damaged(let damage)):
                job.damage = damage
                entry.present = false
                entry.id = ""
                emit("image.damaged", entry, "\(entry.spec.ref) is damaged: \(damage)", ["damage": damage])
                afterMissing(job)
            case .failure(let failure):
                // Nothing ran, so nothing backs off: the next call asks again.
                finish(job, .failure(ImageFailures.backendUnavailable(entry, failure)))
            }
        }
    }

    private func afterMissing(_ job: ImageJob) {
        let base = job.entry.spec.base
        guard !base.isEmpty else { return enqueue(job) }
        job.state = .waitingForBase
        ensure(base) { [self] result in
            switch result {
            case .success: enqueue(job)
            case .failure(let error): finish(job, .failure(ImageFailures.baseUnavailable(job.entry, base: base, error)))
            }
        }
    }

    private func enqueue(_ job: ImageJob) {
        let entry = job.entry
        let kind: ImageJobKind
        if !entry.isAdHoc && backend.canBuild(entry.spec) {
            kind = .build
        } else if backend.canPull(entry.spec) {
            kind = .pull
        } else {
            return finish(job, .failure(ImageFailures.noWayToMake(entry)))
        }
        job.kind = kind
        job.state = .queued
        job.queuedBehind = queues.queuedCount(kind)
        queues.append(job, kind: kind)
        pump()
        if job.state == .queued {
            let running = queues.running[kind, default: 0]
            emit("image.job.queued", entry, "\(kind.rawValue) of \(entry.spec.ref) waits for a slot: \(running) running, \(job.queuedBehind) queued ahead", [
                "kind": kind.rawValue, "running": "\(running)", "ahead": "\(job.queuedBehind)", "waiters": "\(job.waiters.count)",
            ])
        }
    }

    /// Starts queued jobs while the caps allow. Re-entered by a job that
    /// ends at once, the outer loop carries on.
    private func pump() {
        guard !pumping else { return }
        pumping = true
        defer { pumping = false }
        while let (job, kind) = queues.nextToStart(settings: settings) {
            run(job, kind: kind)
        }
    }

    private func run(_ job: ImageJob, kind: ImageJobKind) {
        let entry = job.entry
        job.state = kind == .build ? .building : .pulling
        job.startedAt = clock.monotonicSeconds
        emit("image.job.started", entry, "\(kind.rawValue) of \(entry.spec.ref) started", [
            "kind": kind.rawValue, "waiters": "\(job.waiters.count)",
        ])
        let timeout = entry.spec.jobTimeoutSeconds ?? settings.jobTimeoutSeconds
        let done: (Result<ImageJobResult, ImageBackendFailure>) -> Void = { [self] result in
            queues.finished(kind)
            switch result {
            case .success(let made): confirm(job, kind: kind, made)
            case .failure(let failure): failed(job, kind: kind, failure)
            }
            pump()
        }
        switch kind {
        case .build: backend.build(entry.spec, timeoutSeconds: timeout, done)
        case .pull: backend.pull(entry.spec, timeoutSeconds: timeout, done)
        }
    }

    /// A job that says it made the image is believed only once the store
    /// has it: a build script that exits 0 without tagging is a failure.
    private func confirm(_ job: ImageJob, kind: ImageJobKind, _ made: ImageJobResult) {
        let entry = job.entry
        // The job's own writes to the store are heard now, not as doubts
        // about the check below.
        backend.deliverPendingEvents()
        let doubts = entry.doubts
        backend.presence(of: entry.spec) { [self] result in
            switch result {
            case .success(.present(let id)):
                succeeded(job, kind: kind, made, id: id.isEmpty ? made.id : id, unlessDoubtedSince: doubts)
            case .success(.missing):
                failed(job, kind: kind, ImageBackendFailure(
                    .failed, "the \(kind.rawValue) ended well but \(entry.spec.ref) is not in the store"))
            case .success(.damaged(let damage)):
                failed(job, kind: kind, ImageBackendFailure(
                    .failed, "the \(kind.rawValue) ended well but \(entry.spec.ref) is damaged: \(damage)"))
            case .failure(let failure):
                failed(job, kind: kind, failure)
            }
        }
    }

    private func succeeded(_ job: ImageJob, kind: ImageJobKind, _ made: ImageJobResult, id: String, unlessDoubtedSince doubts: UInt64) {
        let entry = job.entry
        // A damaged image made again is a repair; a stale answer stays one.
        var made = made
        if let damage = job.damage {
            if made.outcome == .built || made.outcome == .pulled { made.outcome = .repaired }
            made.detail = made.detail.isEmpty ? damage : "\(damage); \(made.detail)"
        }
        let seconds = clock.monotonicSeconds - (job.startedAt ?? job.createdAt)
        markPresent(entry, id: id, unlessDoubtedSince: doubts)
        entry.consecutiveFailures = 0
        entry.backoffUntil = -.infinity
        entry.lastError = nil
        entry.lastJobOutcome = made.outcome.rawValue
        entry.lastJobEndUnixMilliseconds = clock.unixMilliseconds
        emit("image.job.finished", entry, "\(kind.rawValue) of \(entry.spec.ref) finished: \(made.outcome.rawValue) in \(DurationText.format(seconds))", [
            "kind": kind.rawValue, "outcome": made.outcome.rawValue, "seconds": String(format: "%.3f", seconds),
            "waiters": "\(job.waiters.count)",
        ])
        finish(job, .success(EnsureImageAnswer(
            outcome: made.outcome, name: entry.spec.name, ref: entry.spec.ref, id: id, jobSeconds: seconds, detail: made.detail,
            queuedBehind: UInt32(job.queuedBehind))))
    }

    private func failed(_ job: ImageJob, kind: ImageJobKind, _ failure: ImageBackendFailure) {
        let entry = job.entry
        entry.consecutiveFailures += 1
        let backoff = settings.backoff(afterFailures: entry.consecutiveFailures)
        let error = ImageFailures.jobFailed(entry, kind: kind, failure, backoff: backoff, classifier: classifier)
        // At least the delay the failure asked for (a rate limit's).
        entry.backoffUntil = clock.monotonicSeconds + (error.detail?.retryAfterSeconds ?? backoff)
        entry.lastError = error
        entry.lastJobOutcome = "FAILED"
        entry.lastJobEndUnixMilliseconds = clock.unixMilliseconds
        let seconds = clock.monotonicSeconds - (job.startedAt ?? job.createdAt)
        emit("image.job.failed", entry, "\(kind.rawValue) of \(entry.spec.ref) failed: \(failure.message)", [
            "kind": kind.rawValue, "category": error.detail?.category ?? "",
            "backoff_seconds": "\(Int((entry.backoffUntil - clock.monotonicSeconds).rounded(.up)))",
            "seconds": String(format: "%.3f", seconds),
            "failures": "\(entry.consecutiveFailures)", "waiters": "\(job.waiters.count)",
        ])
        finish(job, .failure(error))
    }

    private func finish(_ job: ImageJob, _ result: Result<EnsureImageAnswer, SidecarError>) {
        if job.entry.job === job { job.entry.job = nil }
        for token in job.waiters.keys { waiterJobs[token] = nil }
        for waiter in job.takeWaiters() {
            switch result {
            case .success(var answer):
                answer.coalesced = waiter.coalesced
                waiter.reply(.success(answer))
            case .failure(let error):
                waiter.reply(.failure(error))
            }
        }
    }

    // MARK: Presence

    /// Present as of the check that began when `doubts` was the entry's
    /// count; cached only if no change was heard since it began (the check
    /// may have read a blob before the change).
    private func markPresent(_ entry: ImageEntry, id: String, unlessDoubtedSince doubts: UInt64) {
        entry.present = true
        entry.id = id
        backend.deliverPendingEvents()
        entry.verifiedAt = entry.doubts == doubts ? clock.monotonicSeconds : -.infinity
    }

    /// Records that the image is gone; if it was known present, that is news.
    func markMissing(_ entry: ImageEntry, how: String) {
        let wasPresent = entry.present == true
        entry.present = false
        entry.id = ""
        entry.verifiedAt = clock.monotonicSeconds
        if wasPresent {
            emit("image.removed", entry, "\(entry.spec.ref) is gone: \(how)", ["keep_warm": "\(entry.spec.keepWarm)"])
        }
    }

    func emit(_ topic: String, _ entry: ImageEntry, _ message: String, _ attributes: [String: String] = [:]) {
        var attributes = attributes
        attributes["ref"] = entry.spec.ref
        onEvent?(ImageEvent(topic: topic, subject: entry.spec.name, message: message, attributes: attributes))
    }
}
