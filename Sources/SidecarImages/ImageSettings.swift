import Foundation
import SidecarConfig

/// The numbers image work runs by, taken from `[images]`.
public struct ImageSettings: Sendable, Equatable {
    public var maxConcurrentBuilds: Int
    public var maxConcurrentPulls: Int
    public var jobTimeoutSeconds: Double
    public var failureBackoffSeconds: Double
    public var failureBackoffMaxSeconds: Double
    /// How long a presence check is trusted when the backend sends no events.
    public var presenceTTLSeconds: Double
    /// Prune removes images not asked for within this long.
    public var pruneUnusedAfterSeconds: Double
    /// A scrub's pace.
    public var scrubBytesPerSecond: Double

    public init(_ images: DaemonConfig.ImagesConfig) {
        maxConcurrentBuilds = images.maxConcurrentBuilds
        maxConcurrentPulls = images.maxConcurrentPulls
        jobTimeoutSeconds = images.jobTimeoutSeconds
        failureBackoffSeconds = images.failureBackoffSeconds
        failureBackoffMaxSeconds = images.failureBackoffMaxSeconds
        presenceTTLSeconds = images.presenceTTLSeconds
        pruneUnusedAfterSeconds = images.pruneUnusedAfterSeconds
        scrubBytesPerSecond = Double(images.scrubMegabytesPerSecond) * 1_000_000
    }

    /// Back-off after the `failures`-th failure in a row: the base doubled
    /// each time, capped.
    public func backoff(afterFailures failures: Int) -> Double {
        guard failures > 0 else { return 0 }
        let doublings = Double(min(failures - 1, 62))
        return min(failureBackoffSeconds * pow(2, doublings), failureBackoffMaxSeconds)
    }

    public func cap(for kind: ImageJobKind) -> Int {
        kind == .build ? maxConcurrentBuilds : maxConcurrentPulls
    }
}
