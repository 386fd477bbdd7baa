import SidecarCore
import SidecarDatabases
import SidecarLoop
import SidecarStore

/// The database coordinator's blocking work (realpath, stat, SQLite) on
/// the thread pool; answers come back on the loop.
final class PoolCheckRunner: DatabaseCheckRunner {
    private let loop: EventLoop

    init(loop: EventLoop) {
        self.loop = loop
    }

    func resolve(_ path: String, roots: [String], _ done: @escaping (DatabasePathResolution) -> Void) {
        do {
            try ThreadPoolWork.compute(loop: loop, { DatabasePaths.resolve(path, roots: roots) }, then: done)
        } catch {
            // The pool refused the work: nothing could be resolved, so
            // nothing is claimed to be inside a root.
            done(.outside(resolved: path, roots: roots))
        }
    }

    func check(_ job: DbCheckJob, _ done: @escaping (FileFingerprint?, DbCheckResult) -> Void) {
        do {
            try ThreadPoolWork.compute(loop: loop, {
                (DatabaseChecker.fingerprint(path: job.path),
                 DatabaseChecker.check(
                    path: job.path, root: job.root, mode: job.mode, maxErrors: job.maxErrors, busyTimeoutMilliseconds: job.busyTimeoutMilliseconds))
            }, then: done)
        } catch {
            done(nil, DbCheckResult(verdict: .busy, messages: ["\(error)"]))
        }
    }
}
