import SidecarCore
import SidecarImages

final class FakeClock: ImageClock {
    var monotonicSeconds: Double = 1000
    var unixMilliseconds: Int64 = 1_800_000_000_000

    func advance(_ seconds: Double) {
        monotonicSeconds += seconds
        unixMilliseconds += Int64(seconds * 1000)
    }
}

/// A store in memory whose jobs end when the test says so.
final class FakeImageBackend: ImageBackend {
    var reportsEvents = false
    var onEvent: ((ImageBackendEvent) -> Void)?

    /// Refs in the store, with their ids.
    var store: [String: String] = [:]
    /// Refs that a build or pull can make.
    var buildable: Set<String> = []
    var pullable: Set<String> = []
    var presenceChecks = 0
    /// False mimics a build script that exits 0 without tagging its image.
    var storesWhatItMakes = true
    private(set) var started: [(kind: ImageJobKind, ref: String)] = []
    private(set) var removed: [String] = []
    private var pending: [(ref: String, kind: ImageJobKind, done: (Result<ImageJobResult, ImageBackendFailure>) -> Void)] = []

    var runningRefs: [String] { pending.map(\.ref) }

    func presence(of image: ImageSpec, _ done: @escaping (Result<ImagePresence, ImageBackendFailure>) -> Void) {
        presenceChecks += 1
        done(.success(store[image.ref].map { .present(id: $0) } ?? .missing))
    }

    func canBuild(_ image: ImageSpec) -> Bool { buildable.contains(image.ref) }
    func canPull(_ image: ImageSpec) -> Bool { pullable.contains(image.ref) }

    func build(_ image: ImageSpec, timeoutSeconds: Double, _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void) {
        started.append((.build, image.ref))
        pending.append((image.ref, .build, done))
    }

    func pull(_ image: ImageSpec, timeoutSeconds: Double, _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void) {
        started.append((.pull, image.ref))
        pending.append((image.ref, .pull, done))
    }

    func remove(_ image: ImageSpec, _ done: @escaping (Result<Void, ImageBackendFailure>) -> Void) {
        removed.append(image.ref)
        store[image.ref] = nil
        done(.success(()))
    }

    /// Ends the running job of `ref`: made (stored) or failed.
    func complete(_ ref: String, failure: ImageBackendFailure? = nil) {
        guard let index = pending.firstIndex(where: { $0.ref == ref }) else { fatalError("no job running for \(ref)") }
        let job = pending.remove(at: index)
        if let failure {
            job.done(.failure(failure))
        } else {
            if storesWhatItMakes { store[ref] = "sha256:\(ref.hashValue)" }
            job.done(.success(ImageJobResult(outcome: job.kind == .build ? .built : .pulled)))
        }
    }

    /// Another tool removed the image.
    func removeOutOfBand(_ ref: String) {
        store[ref] = nil
        if reportsEvents { onEvent?(.removed(ref: ref)) }
    }
}

/// Collects the answers of EnsureImage calls.
final class Answers {
    private(set) var results: [Result<EnsureImageAnswer, SidecarError>] = []

    func reply() -> ImageCoordinator.Reply {
        { self.results.append($0) }
    }

    var successes: [EnsureImageAnswer] { results.compactMap { try? $0.get() } }
    var failures: [SidecarError] {
        results.compactMap { if case .failure(let error) = $0 { error } else { nil } }
    }
}
