/// Jobs waiting for a build or pull slot, first come first served, and how
/// many of each kind run now.
struct JobQueues {
    private var waiting: [ImageJobKind: [ImageJob]] = [.build: [], .pull: []]
    private(set) var running: [ImageJobKind: Int] = [.build: 0, .pull: 0]

    mutating func append(_ job: ImageJob, kind: ImageJobKind) {
        waiting[kind, default: []].append(job)
    }

    /// The next job that may start under the caps, counted as running.
    mutating func nextToStart(settings: ImageSettings) -> (ImageJob, ImageJobKind)? {
        for kind in [ImageJobKind.build, .pull] {
            guard running[kind, default: 0] < settings.cap(for: kind), !(waiting[kind]?.isEmpty ?? true) else { continue }
            running[kind, default: 0] += 1
            return (waiting[kind]!.removeFirst(), kind)
        }
        return nil
    }

    mutating func finished(_ kind: ImageJobKind) {
        running[kind, default: 1] -= 1
    }

    func queuedCount(_ kind: ImageJobKind) -> Int { waiting[kind]?.count ?? 0 }
}
