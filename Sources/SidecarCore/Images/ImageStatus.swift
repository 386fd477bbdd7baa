/// One image as ListImages reports it.
public struct ImageStatus: Sendable, Equatable {
    /// What the image is doing now.
    public enum State: String, Sendable, Equatable, CaseIterable {
        case idle
        case checking
        case waitingForBase = "waiting_for_base"
        case queued
        case building
        case pulling
        case backingOff = "backing_off"
    }

    public var name: String
    public var ref: String
    public var present: Bool
    /// The image this one is built on, when the config names one.
    public var baseImage: String
    public var keepWarm: Bool
    public var state: State
    /// "BUILT", "PULLED", "FAILED", ... or empty before the first job.
    public var lastJobOutcome: String
    public var lastJobEndUnixMilliseconds: Int64
    public var lastError: String
    public var backoffRemainingSeconds: Double

    public init(
        name: String, ref: String, present: Bool, baseImage: String = "", keepWarm: Bool = false,
        state: State = .idle, lastJobOutcome: String = "", lastJobEndUnixMilliseconds: Int64 = 0,
        lastError: String = "", backoffRemainingSeconds: Double = 0
    ) {
        self.name = name
        self.ref = ref
        self.present = present
        self.baseImage = baseImage
        self.keepWarm = keepWarm
        self.state = state
        self.lastJobOutcome = lastJobOutcome
        self.lastJobEndUnixMilliseconds = lastJobEndUnixMilliseconds
        self.lastError = lastError
        self.backoffRemainingSeconds = backoffRemainingSeconds
    }
}

/// What Prune removed, or would remove with `dryRun`.
public struct PruneReport: Sendable, Equatable {
    public var removed: [String]
    public var bytesFreed: UInt64
    /// What was kept because a lease holds it.
    public var keptLeased: [String]

    public init(removed: [String] = [], bytesFreed: UInt64 = 0, keptLeased: [String] = []) {
        self.removed = removed
        self.bytesFreed = bytesFreed
        self.keptLeased = keptLeased
    }
}

/// What a scrub hashed and what it found broken.
public struct ScrubReport: Sendable, Equatable {
    public struct Finding: Sendable, Equatable {
        public var ref: String
        public var damage: String
        /// The repair's outcome, or "FAILED: " and its error; empty until
        /// the repair has run.
        public var repair: String

        public init(ref: String, damage: String, repair: String = "") {
            self.ref = ref
            self.damage = damage
            self.repair = repair
        }
    }

    public var images: UInt32
    public var blobs: UInt32
    public var bytes: UInt64
    public var seconds: Double
    public var damaged: [Finding]
    /// Blobs that changed while they were hashed (left to the check their
    /// change raises).
    public var skippedBlobs: UInt32

    public init(
        images: UInt32 = 0, blobs: UInt32 = 0, bytes: UInt64 = 0, seconds: Double = 0, damaged: [Finding] = [],
        skippedBlobs: UInt32 = 0
    ) {
        self.images = images
        self.blobs = blobs
        self.bytes = bytes
        self.seconds = seconds
        self.damaged = damaged
        self.skippedBlobs = skippedBlobs
    }
}
