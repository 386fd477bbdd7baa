import SidecarCore
import SidecarImages

package final class FakeClock: ImageClock {
    package var monotonicSeconds: Double = 1000
    package var unixMilliseconds: Int64 = 1_800_000_000_000

    package init() {}

    package func advance(_ seconds: Double) {
        monotonicSeconds += seconds
        unixMilliseconds += Int64(seconds * 1000)
    }
}

/// A store in memory whose jobs end when the test says so, or at once with
/// `endsJobsAtOnce` (the backend contract's mode: a job of a ref in
/// `failing` fails with its output, one in `hanging` outlives any time-out).
package final class FakeImageBackend: ImageBackend {
    package var reportsEvents = false
    package var onEvent: ((ImageBackendEvent) -> Void)?

    /// Refs in the store, with their ids.
    package var store: [String: String] = [:]
    /// Refs that a build or pull can make.
    package var buildable: Set<String> = []
    package var pullable: Set<String> = []
    package var presenceChecks = 0
    /// False mimics a build script that exits 0 without tagging its image.
    package var storesWhatItMakes = true
    package private(set) var started: [(kind: ImageJobKind, ref: String)] = []
    package private(set) var removed: [String] = []
    private var pending: [(ref: String, kind: ImageJobKind, done: (Result<ImageJobResult, ImageBackendFailure>) -> Void)] = []

    package var runningRefs: [String] { pending.map(\.ref) }

    package var endsJobsAtOnce = false
    package var failing: Set<String> = []
    package var hanging: Set<String> = []
    /// Changes made but not heard yet: `deliverPendingEvents` reports them.
    package var queuedEvents: [ImageBackendEvent] = []
    /// Runs inside each presence check before it answers: a change made
    /// while the check reads the store.
    package var duringPresenceCheck: (() -> Void)?

    package init() {}

    package func deliverPendingEvents() {
        let events = queuedEvents
        queuedEvents = []
        for event in events { onEvent?(event) }
    }

    package func presence(of image: ImageSpec, _ done: @escaping (Result<ImagePresence, ImageBackendFailure>) -> Void) {
        presenceChecks += 1
        duringPresenceCheck?()
        done(.success(store[image.ref].map { .present(id: $0) } ?? .missing))
    }

    package func canBuild(_ image: ImageSpec) -> Bool { buildable.contains(image.ref) }
    package func canPull(_ image: ImageSpec) -> Bool { pullable.contains(image.ref) }

    package func build(_ image: ImageSpec, timeoutSeconds: Double, _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void) {
        started.append((.build, image.ref))
        pending.append((image.ref, .build, done))
        if endsJobsAtOnce { endAtOnce(image.ref) }
    }

    package func pull(_ image: ImageSpec, timeoutSeconds: Double, _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void) {
        started.append((.pull, image.ref))
        pending.append((image.ref, .pull, done))
        if endsJobsAtOnce { endAtOnce(image.ref) }
    }

    package func remove(_ image: ImageSpec, _ done: @escaping (Result<Void, ImageBackendFailure>) -> Void) {
        removed.append(image.ref)
        store[image.ref] = nil
        done(.success(()))
    }

    /// Ends the running job of `ref`: made (stored) or failed.
    package func complete(_ ref: String, failure: ImageBackendFailure? = nil) {
        guard let index = pending.firstIndex(where: { $0.ref == ref }) else { fatalError("no job running for \(ref)") }
        let job = pending.remove(at: index)
        if let failure {
            job.done(.failure(failure))
        } else {
            if storesWhatItMakes { store[ref] = "sha256:\(ref.hashValue)" }
            job.done(.success(ImageJobResult(outcome: job.kind == .build ? .built : .pulled)))
        }
    }

    private func endAtOnce(_ ref: String) {
        if hanging.contains(ref) {
            complete(ref, failure: ImageBackendFailure(.timedOut, "build timed out"))
        } else if failing.contains(ref) {
            complete(ref, failure: ImageBackendFailure(.failed, "build exited with status 1", output: "step 1 ok\nstep 2 failed\n"))
        } else {
            complete(ref)
        }
    }

    /// Another tool removed the image.
    package func removeOutOfBand(_ ref: String) {
        store[ref] = nil
        if reportsEvents { onEvent?(.removed(ref: ref)) }
    }
}

/// Collects the answers of EnsureImage calls.
package final class Answers {
    package init() {}

    package private(set) var results: [Result<EnsureImageAnswer, SidecarError>] = []

    package func reply() -> ImageCoordinator.Reply {
        { self.results.append($0) }
    }

    package var successes: [EnsureImageAnswer] { results.compactMap { try? $0.get() } }
    package var failures: [SidecarError] {
        results.compactMap { if case .failure(let error) = $0 { error } else { nil } }
    }
}
