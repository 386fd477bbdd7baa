import SidecarConfig
import SidecarCore

public typealias ImageSpec = DaemonConfig.ImageSpec

/// Whether an image is in the backend's store, and its identity there.
public enum ImagePresence: Sendable, Equatable {
    case present(id: String)
    case missing
    /// There, but broken (what is wrong, for a human): made again like a
    /// missing image, and answered REPAIRED.
    case damaged(String)
}

/// The two ways a job makes an image.
public enum ImageJobKind: String, Sendable, Equatable, CaseIterable {
    case build
    case pull
}

/// What a successful build or pull reports.
public struct ImageJobResult: Sendable, Equatable {
    public var outcome: ImageOutcome
    public var id: String
    /// What went wrong first, for a repair or a stale answer.
    public var detail: String

    public init(outcome: ImageOutcome, id: String = "", detail: String = "") {
        self.outcome = outcome
        self.id = id
        self.detail = detail
    }
}

/// Why a backend operation failed.
public struct ImageBackendFailure: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The backend itself cannot be reached or run (no engine socket,
        /// a template's program missing): nothing is known about the image.
        case unavailable
        /// The operation ran and failed (non-zero exit, an error in the stream).
        case failed
        /// The job outlived its time-out and was killed.
        case timedOut
    }

    public var kind: Kind
    /// One line: what failed and how ("build exited with status 2").
    public var message: String
    /// The operation's output, at most the last 64 KiB.
    public var output: String
    /// What an operator can do about it, when the backend knows better than
    /// the coordinator (e.g. how to start the engine).
    public var remedy: String

    public init(_ kind: Kind, _ message: String, output: String = "", remedy: String = "") {
        self.kind = kind
        self.message = message
        self.output = output
        self.remedy = remedy
    }
}

/// What a backend that watches its store reports on its own.
public enum ImageBackendEvent: Sendable, Equatable {
    /// The image with this ref left the store (rmi, prune).
    case removed(ref: String)
    /// Something these images are made of changed in the store (a blob
    /// written, truncated, removed): each must be checked again before it
    /// is answered present.
    case changed(refs: [String], reason: String)
    /// A line of output of the job making `ref` (a build step, a layer pulled).
    case progress(ref: String, line: String)
    /// Presence known so far may be stale (the event stream was lost and is
    /// back, or a removal could not be matched to a ref): check again.
    case resynchronized
}

/// A place images live, as the coordinator needs it. Every method is called
/// on the loop thread and calls `done` there exactly once, later or at once.
/// The daemon starts a backend once it serves, hands it every config a
/// reload applies, and closes it at shutdown (each a no-op by default).
public protocol ImageBackend: AnyObject {
    /// Where the images live, for the daemon's start-up log line.
    var summary: String { get }
    func start() throws
    func configure(_ images: DaemonConfig.ImagesConfig)
    /// Stops what the backend runs (jobs, event streams); nothing answers after.
    func close()

    /// True when `onEvent` reports every removal, so a present image stays
    /// known present until an event says otherwise; false makes presence
    /// expire after a TTL and be checked again.
    var reportsEvents: Bool { get }
    var onEvent: ((ImageBackendEvent) -> Void)? { get set }
    /// Delivers, before it returns, the events of every change made so far
    /// that the backend can hear without waiting (the layout's file events):
    /// the coordinator calls it before trusting what it knows.
    func deliverPendingEvents()

    func presence(of image: ImageSpec, _ done: @escaping (Result<ImagePresence, ImageBackendFailure>) -> Void)
    /// Whether `build` can make this image, and `pull` fetch it.
    func canBuild(_ image: ImageSpec) -> Bool
    func canPull(_ image: ImageSpec) -> Bool
    func build(_ image: ImageSpec, timeoutSeconds: Double, _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void)
    func pull(_ image: ImageSpec, timeoutSeconds: Double, _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void)
    func remove(_ image: ImageSpec, _ done: @escaping (Result<Void, ImageBackendFailure>) -> Void)
    /// Frees what no image reaches any more (blobs of a layout), after Prune
    /// removed images; backends whose engine does that answer an empty report.
    func collectGarbage(dryRun: Bool, _ done: @escaping (Result<PruneReport, ImageBackendFailure>) -> Void)

    /// "events", or "ttl: " and why presence is not kept by events (Health).
    var presenceTracking: String { get }
    /// Whether `scrub` can hash the images' bytes (the backend keeps them).
    var canScrub: Bool { get }
    /// Hashes every blob `refs` reach again, trusting no cache, at most
    /// `bytesPerSecond` on average, and reports the refs found damaged (it
    /// repairs nothing: the coordinator does, as for any damage).
    func scrub(refs: [String], bytesPerSecond: Double, _ done: @escaping (Result<ScrubReport, ImageBackendFailure>) -> Void)

    /// Stops the build of `image` that runs now, if any (its `done` still
    /// runs, with the failure): fleet mode, when another host took the
    /// build over.
    func stopBuild(of image: ImageSpec)

    /// Fleet mode: whether `publish` can push an image for other hosts.
    var canPublish: Bool { get }
    /// Pushes the present `image` to the registry reference `target`
    /// (REGISTRY/fleet/NAME:TAG) and answers the manifest's digest, by
    /// which the other hosts pull it.
    func publish(_ image: ImageSpec, to target: String, timeoutSeconds: Double, _ done: @escaping (Result<String, ImageBackendFailure>) -> Void)
}

extension ImageBackend {
    public var summary: String { "" }
    public func start() throws {}
    public func configure(_ images: DaemonConfig.ImagesConfig) {}
    public func close() {}
    public func deliverPendingEvents() {}

    public func collectGarbage(dryRun: Bool, _ done: @escaping (Result<PruneReport, ImageBackendFailure>) -> Void) {
        done(.success(PruneReport()))
    }

    public var presenceTracking: String {
        reportsEvents ? "events" : "ttl: the backend reports no changes"
    }

    public var canScrub: Bool { false }

    public func scrub(refs: [String], bytesPerSecond: Double, _ done: @escaping (Result<ScrubReport, ImageBackendFailure>) -> Void) {
        done(.failure(ImageBackendFailure(.unavailable, "this image backend keeps no blobs of its own to hash")))
    }

    public func stopBuild(of image: ImageSpec) {}

    public var canPublish: Bool { false }

    public func publish(
        _ image: ImageSpec, to target: String, timeoutSeconds: Double, _ done: @escaping (Result<String, ImageBackendFailure>) -> Void
    ) {
        done(.failure(ImageBackendFailure(.unavailable, "this image backend cannot publish images for the fleet")))
    }
}
