import SidecarConfig
import SidecarCore
import SidecarLoop
import SidecarStore
import SidecarWire

/// CheckDb and ReportDbError (DESIGN.md 4.2, seed 001). Checks run on the
/// thread pool under a cap; concurrent checks of one file share one run; a
/// result is reused while the file and its WAL are unchanged.
final class DatabaseService {
    struct Answer {
        var result: DbCheckResult
        var shared: Bool
        var reused: Bool
        var resolvedPath: String
    }

    typealias Completion = (Result<Answer, SidecarError>) -> Void

    private let loop: EventLoop
    private let context: DaemonContext
    private var inFlight: [String: [Completion]] = [:]
    private var cache: [String: (fingerprint: FileFingerprint, result: DbCheckResult)] = [:]
    private var waitingToStart: [() -> Void] = []
    private var running = 0
    private var streaks: CorruptionStreaks
    private var sweepTimer: LoopTimer?

    static let defaultMaxErrors = 10
    static let cacheLimit = 4096

    init(loop: EventLoop, context: DaemonContext) throws {
        self.loop = loop
        self.context = context
        streaks = CorruptionStreaks(threshold: context.config.databases.streakThreshold)
        let timer = try LoopTimer(loop: loop)
        timer.unref()
        timer.start(after: 60_000, repeat: 60_000) { [unowned self] in
            self.streaks.forgetIdle(
                now: WallClock.unixSeconds(), idleSeconds: self.context.config.databases.clientIdleExpirySeconds)
        }
        sweepTimer = timer
    }

    func configure(_ config: DaemonConfig) {
        streaks.threshold = config.databases.streakThreshold
        cache.removeAll()  // the roots may have changed
    }

    func close() {
        sweepTimer?.close()
        sweepTimer = nil
    }

    // MARK: CheckDb

    func check(path: String, mode: DbCheckMode, maxErrors: Int, _ completion: @escaping Completion) throws {
        guard path.hasPrefix("/") else { throw SidecarError(.invalidArgument, "the path must be absolute, got \"\(path)\"") }
        let roots = context.config.databases.roots
        try ThreadPoolWork.compute(loop: loop, { DatabasePaths.resolve(path, roots: roots) }, then: { [self] value in
            route(value, requested: path, mode: mode, maxErrors: maxErrors, completion)
        })
    }

    private func route(
        _ resolution: DatabasePaths.Resolution, requested: String, mode: DbCheckMode, maxErrors: Int,
        _ completion: @escaping Completion
    ) {
        switch resolution {
        case .outside(let resolved, let roots):
            context.metrics.increment("sidecar_db_checks_total", label: "outside_roots")
            let rootList = roots.isEmpty ? "none are configured" : roots.joined(separator: ", ")
            completion(.failure(SidecarError(
                .permissionDenied,
                "OUTSIDE_ROOTS: \(requested) resolves to \(resolved), which is not under databases.roots (\(rootList))")))
        case .inside(let resolved, let fingerprint, let isDirectory):
            if isDirectory {
                return completion(.success(Answer(
                    result: DbCheckResult(verdict: .notADatabase, messages: ["\(resolved) is a directory"]),
                    shared: false, reused: false, resolvedPath: resolved)))
            }
            guard let fingerprint else {
                return completion(.success(Answer(
                    result: DbCheckResult(verdict: .missing, messages: ["\(resolved) does not exist"]),
                    shared: false, reused: false, resolvedPath: resolved)))
            }
            let key = "\(mode.rawValue):\(resolved)"
            if let cached = cache[key], cached.fingerprint == fingerprint {
                context.metrics.increment("sidecar_db_checks_total", label: "reused")
                return completion(.success(Answer(result: cached.result, shared: false, reused: true, resolvedPath: resolved)))
            }
            if inFlight[key] != nil {
                context.metrics.increment("sidecar_db_checks_total", label: "shared")
                inFlight[key]?.append(completion)
                return
            }
            inFlight[key] = [completion]
            let start = { [self] in runCheck(key: key, path: resolved, mode: mode, maxErrors: maxErrors) }
            if running < context.config.databases.maxConcurrentChecks {
                start()
            } else {
                waitingToStart.append(start)
            }
        }
    }

    private func runCheck(key: String, path: String, mode: DbCheckMode, maxErrors: Int) {
        running += 1
        context.metrics.increment("sidecar_db_checks_total", label: "run")
        let limit = maxErrors > 0 ? maxErrors : Self.defaultMaxErrors
        let busyTimeout = Int32(clamping: Int(context.config.databases.busyTimeoutSeconds * 1000))
        do {
            try ThreadPoolWork.compute(loop: loop, {
                (DatabaseChecker.fingerprint(path: path),
                 DatabaseChecker.check(path: path, mode: mode, maxErrors: limit, busyTimeoutMilliseconds: busyTimeout))
            }, then: { [self] fingerprint, result in
                finishCheck(key: key, path: path, fingerprint: fingerprint, result: result)
            })
        } catch {
            finishCheck(key: key, path: path, fingerprint: nil, result: DbCheckResult(verdict: .busy, messages: ["\(error)"]))
        }
    }

    private func finishCheck(key: String, path: String, fingerprint: FileFingerprint?, result: DbCheckResult?) {
        running -= 1
        let result = result ?? DbCheckResult(verdict: .busy, messages: ["the check did not run"])
        // BUSY and MISSING say nothing lasting about the file's content.
        if let fingerprint, result.verdict != .busy, result.verdict != .missing {
            if cache.count >= Self.cacheLimit { cache.removeAll() }
            cache[key] = (fingerprint, result)
        }
        if result.verdict == .corrupt || result.verdict == .notADatabase {
            context.events.publish(
                topic: "db.corrupt", subject: path, message: result.messages.first ?? result.verdict.rawValue,
                attributes: ["verdict": result.verdict.rawValue])
        }
        let waiters = inFlight.removeValue(forKey: key) ?? []
        for (index, completion) in waiters.enumerated() {
            completion(.success(Answer(result: result, shared: index > 0, reused: false, resolvedPath: path)))
        }
        if !waitingToStart.isEmpty, running < context.config.databases.maxConcurrentChecks {
            waitingToStart.removeFirst()()
        }
    }

    // MARK: ReportDbError

    func report(_ request: ReportDbErrorRequest, _ completion: @escaping (Result<ReportDbErrorResponse, SidecarError>) -> Void) throws {
        guard !request.clientID.isEmpty else { throw SidecarError(.invalidArgument, "client_id must not be empty") }
        let kind: CorruptionStreaks.Report
        if request.ok {
            kind = .success
        } else if request.message.isEmpty && request.sqliteCode == nil {
            throw SidecarError(.invalidArgument, "give the error message or SQLite code, or ok for a success")
        } else {
            let verdict = context.classifier.classify(FailureReport(message: request.message, sqliteCode: request.sqliteCode))
            kind = verdict.category == "db_corrupt" ? .corruption : .otherError
        }
        let roots = context.config.databases.roots
        let path = request.path
        guard path.hasPrefix("/") else { throw SidecarError(.invalidArgument, "the path must be absolute, got \"\(path)\"") }
        try ThreadPoolWork.compute(loop: loop, { DatabasePaths.resolve(path, roots: roots) }, then: { [self] value in
            guard case .inside(let resolved, _, _) = value else {
                return route(value, requested: path, mode: .quick, maxErrors: 0) { answer in
                    if case .failure(let error) = answer { completion(.failure(error)) }
                }
            }
            let threshold = UInt32(streaks.threshold)
            let streak = UInt32(streaks.record(kind, client: request.clientID, path: resolved, now: WallClock.unixSeconds()))
            guard kind == .corruption, streak >= threshold else {
                return completion(.success(ReportDbErrorResponse(action: .continue, streak: streak, threshold: threshold)))
            }
            route(value, requested: path, mode: .quick, maxErrors: 0) { [self] answer in
                switch answer {
                case .failure(let error):
                    completion(.failure(error))
                case .success(let answer):
                    completion(.success(decide(answer.result, path: resolved, client: request.clientID, streak: streak, threshold: threshold)))
                }
            }
        })
    }

    /// At the threshold: the host's verdict decides between respawning and restoring.
    private func decide(_ result: DbCheckResult, path: String, client: String, streak: UInt32, threshold: UInt32) -> ReportDbErrorResponse {
        switch result.verdict {
        case .ok:
            context.events.publish(
                topic: "db.torn_view", subject: path, message: "client \(client) sees corruption the host does not",
                attributes: ["client": client, "streak": "\(streak)"])
            return ReportDbErrorResponse(
                action: .exitTempfail, streak: streak, threshold: threshold,
                remedy: "\(path) is intact on the host: your view of it is torn (a stale page cache on the mount). "
                    + "Exit 75 (EX_TEMPFAIL) and be respawned with a fresh mount.",
                verdict: .ok)
        case .corrupt, .notADatabase, .missing:
            return ReportDbErrorResponse(
                action: .corrupt, streak: streak, threshold: threshold,
                remedy: "\(path) is damaged on the host too (\(result.messages.first ?? result.verdict.rawValue)); "
                    + "respawning will not help. Restore it from a backup, or salvage it: "
                    + "sqlite3 \(path) .recover | sqlite3 \(path).recovered",
                verdict: result.verdict)
        case .busy, .outsideRoots:
            return ReportDbErrorResponse(
                action: .continue, streak: streak, threshold: threshold,
                remedy: "the host could not check \(path) (\(result.messages.first ?? "busy")); keep reporting",
                verdict: result.verdict)
        }
    }
}

/// Carries a pool thread's result to the loop thread's completion, which
/// runs after the work is done.
