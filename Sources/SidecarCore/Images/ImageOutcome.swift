/// How an EnsureImage call was answered when the image is there.
public enum ImageOutcome: String, Sendable, Equatable, CaseIterable {
    /// It was there; nothing was done.
    case present = "PRESENT"
    /// A build made it.
    case built = "BUILT"
    /// A pull made it.
    case pulled = "PULLED"
    /// It was damaged and was made again.
    case repaired = "REPAIRED"
    /// Refreshing failed; an older valid copy is answered.
    case stale = "STALE"
}

/// A successful EnsureImage answer.
public struct EnsureImageAnswer: Sendable, Equatable {
    public var outcome: ImageOutcome
    public var name: String
    public var ref: String
    /// The image id or digest, when the backend knows it.
    public var id: String
    /// True when this call joined a job another call started.
    public var coalesced: Bool
    /// Seconds the job took; 0 for PRESENT.
    public var jobSeconds: Double
    /// What went wrong first, for REPAIRED and STALE.
    public var detail: String
    public var lease: LeaseRecord?
    /// Jobs of its kind queued ahead of the job this call waited for.
    public var queuedBehind: UInt32

    public init(
        outcome: ImageOutcome, name: String, ref: String, id: String = "", coalesced: Bool = false,
        jobSeconds: Double = 0, detail: String = "", lease: LeaseRecord? = nil, queuedBehind: UInt32 = 0
    ) {
        self.outcome = outcome
        self.name = name
        self.ref = ref
        self.id = id
        self.coalesced = coalesced
        self.jobSeconds = jobSeconds
        self.detail = detail
        self.lease = lease
        self.queuedBehind = queuedBehind
    }
}
