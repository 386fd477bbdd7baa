import SidecarCore
import SidecarDatabases
import SidecarLoop
import SidecarStore

/// The database coordinator's blocking work (realpath, stat, SQLite) on
/// the thread pool; answers come back on the loop, within
/// `databases.check_timeout`. Work past its time is answered BUSY and
/// counted as stuck until its thread returns; while too many are stuck,
/// new work is refused at once, so the pool keeps threads for the rest of
/// the daemon (the retry ledger's commits, image hashing).
final class PoolCheckRunner: DatabaseCheckRunner {
    private let loop: EventLoop
    var timeoutSeconds: Double
    /// Timed-out work whose thread has not returned yet.
    private(set) var stuck = 0
    /// libuv's pool has 4 threads unless UV_THREADPOOL_SIZE says otherwise;
    /// database work may hold all but one of them.
    static let maxStuck = 3

    init(loop: EventLoop, timeoutSeconds: Double) {
        self.loop = loop
        self.timeoutSeconds = timeoutSeconds
    }

    private var stuckRefusal: String? {
        stuck < Self.maxStuck ? nil
            : "\(stuck) database checks are stuck on the thread pool past databases.check_timeout (a hung mount?); refusing more until they return"
    }

    func resolve(_ path: String, roots: [String], _ done: @escaping (DatabasePathResolution) -> Void) {
        if let refusal = stuckRefusal { return done(.unavailable(refusal)) }
        run({ DatabasePaths.resolve(path, roots: roots) }, then: done) {
            .unavailable("resolving \(path) did not finish within databases.check_timeout (\($0)); its thread is stuck")
        }
    }

    func check(_ job: DbCheckJob, _ done: @escaping (FileFingerprint?, DbCheckResult) -> Void) {
        if let refusal = stuckRefusal { return done(nil, DbCheckResult(verdict: .busy, messages: [refusal])) }
        run({
            (DatabaseChecker.fingerprint(path: job.path),
             DatabaseChecker.check(
                path: job.path, root: job.root, mode: job.mode, maxErrors: job.maxErrors, busyTimeoutMilliseconds: job.busyTimeoutMilliseconds))
        }, then: done) { limit in
            (nil, DbCheckResult(verdict: .busy, messages: [
                "the check of \(job.path) did not finish within databases.check_timeout (\(limit)); its thread is stuck",
            ]))
        }
    }

    /// `work` on the pool within the time limit; `timedOut` (given the limit
    /// as text) stands in for its value past it.
    private func run<Value>(
        _ work: @escaping @Sendable () -> Value, then done: @escaping (Value) -> Void, timedOut: @escaping (String) -> Value
    ) {
        let limit = DurationText.format(timeoutSeconds)
        do {
            try ThreadPoolWork.compute(loop: loop, within: UInt64(timeoutSeconds * 1000), work, then: { [self] value in
                guard let value else {
                    stuck += 1
                    return done(timedOut(limit))
                }
                done(value)
            }, lateEnd: { [self] in stuck -= 1 })
        } catch {
            done(timedOut(limit))
        }
    }
}
