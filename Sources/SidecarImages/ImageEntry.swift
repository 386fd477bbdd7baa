import SidecarCore

/// What the coordinator knows about one image: its spec, presence, the job
/// in flight and the failures behind it. Loop thread only.
final class ImageEntry {
    var spec: ImageSpec { didSet { encodedPresentAnswer = nil } }
    /// Asked for by ref without being in the config: it may be pulled, never built.
    let isAdHoc: Bool
    /// nil until the backend has been asked.
    var present: Bool?
    var id = "" { didSet { encodedPresentAnswer = nil } }
    /// The server's encoding of EnsureImage's PRESENT answer for this
    /// entry, kept while its name, ref and id stay what they were.
    var encodedPresentAnswer: [UInt8]?
    /// Monotonic seconds of the last time the backend confirmed presence.
    var verifiedAt = -Double.infinity
    /// Counts the backend's reports that the image may have changed: a
    /// presence check that saw one arrive while it ran is not cached.
    var doubts: UInt64 = 0
    var job: ImageJob?
    var consecutiveFailures = 0
    var backoffUntil = -Double.infinity
    var lastError: SidecarError?
    var lastJobOutcome = ""
    var lastJobEndUnixMilliseconds: Int64 = 0
    /// Monotonic seconds of the last EnsureImage that named it.
    var lastUsed: Double

    init(spec: ImageSpec, isAdHoc: Bool, now: Double) {
        self.spec = spec
        self.isAdHoc = isAdHoc
        lastUsed = now
    }

    /// What was known about its presence is no longer to be trusted.
    func doubt() {
        doubts &+= 1
        verifiedAt = -.infinity
    }

    /// The names a lease may hold this image by.
    var leaseNames: [String] { spec.name == spec.ref ? [spec.ref] : [spec.name, spec.ref] }
}

/// One build or pull (or the presence check that may make one unnecessary)
/// that every concurrent caller for the image joins.
final class ImageJob {
    typealias Reply = (Result<EnsureImageAnswer, SidecarError>) -> Void

    struct Waiter {
        let reply: Reply
        /// False for the call that started the job.
        let coalesced: Bool
    }

    // Strong: a job outlives a reload that drops its image from the config.
    let entry: ImageEntry
    var state = ImageStatus.State.checking
    var kind: ImageJobKind?
    /// What the presence check found broken, when it did.
    var damage: String?
    let createdAt: Double
    var startedAt: Double?
    /// Jobs of its kind ahead of it when it was queued (0: it started at once).
    var queuedBehind = 0
    /// When its last progress event went out (they are rate-limited).
    var lastProgressAt = -Double.infinity
    private(set) var waiters: [UInt64: Waiter] = [:]
    /// Waiter ids in arrival order, so answers go out first come first served.
    private var order: [UInt64] = []

    init(entry: ImageEntry, now: Double) {
        self.entry = entry
        createdAt = now
    }

    func add(_ token: UInt64, _ waiter: Waiter) {
        waiters[token] = waiter
        order.append(token)
    }

    func remove(_ token: UInt64) {
        waiters[token] = nil
    }

    /// The waiters still there, in arrival order; the job keeps none after.
    func takeWaiters() -> [Waiter] {
        let taken = order.compactMap { waiters[$0] }
        waiters.removeAll()
        order.removeAll()
        return taken
    }
}
