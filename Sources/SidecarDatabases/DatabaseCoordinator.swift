import SidecarConfig
import SidecarCore

/// The rules of CheckDb and ReportDbError (DESIGN.md 4.2, seed 001), on one
/// thread, over a runner that does the blocking work and a clock it is
/// given: checks run under a cap in arrival order; concurrent checks of one
/// file share one run; a result is reused while the file and its WAL are
/// unchanged; a streak of corruption reports per (client, file) decides
/// when the host's own verdict is asked for, and that verdict decides
/// between respawning and restoring.
public final class DatabaseCoordinator {
    public typealias CheckCompletion = (Result<DbCheckAnswer, DatabaseError>) -> Void
    public typealias ReportCompletion = (Result<DbErrorAdvice, DatabaseError>) -> Void

    /// Results kept for reuse; past this the cache starts afresh.
    public static let cacheLimit = 4096

    private struct CheckKey: Hashable {
        let mode: DbCheckMode
        let path: String
    }

    private let runner: DatabaseCheckRunner
    private let clock: () -> Double
    private var settings: DaemonConfig.DatabasesConfig
    public var classifier: ErrorClassifier
    private var inFlight: [CheckKey: [CheckCompletion]] = [:]
    private var cache: [CheckKey: (fingerprint: FileFingerprint, result: DbCheckResult)] = [:]
    private var waitingToStart: [() -> Void] = []
    /// Checks running now; never more than `max_concurrent_checks`.
    public private(set) var running = 0
    private var streaks: CorruptionStreaks

    /// `db.corrupt` and `db.torn_view`.
    public var onEvent: (DatabaseEvent) -> Void = { _ in }
    /// Each CheckDb outcome: run, shared, reused, outside_roots.
    public var onCheckOutcome: (String) -> Void = { _ in }

    /// `clock`: Unix seconds, for the streaks' idle expiry.
    public init(
        settings: DaemonConfig.DatabasesConfig, classifier: ErrorClassifier, runner: DatabaseCheckRunner,
        clock: @escaping () -> Double
    ) {
        self.settings = settings
        self.classifier = classifier
        self.runner = runner
        self.clock = clock
        streaks = CorruptionStreaks(threshold: settings.streakThreshold)
    }

    public func configure(_ settings: DaemonConfig.DatabasesConfig, classifier: ErrorClassifier) {
        self.settings = settings
        self.classifier = classifier
        streaks.threshold = settings.streakThreshold
        cache.removeAll()  // the roots may have changed
    }

    /// Forgets clients not heard from for `databases.client_idle_expiry`.
    public func forgetIdleClients() {
        streaks.forgetIdle(now: clock(), idleSeconds: settings.clientIdleExpirySeconds)
    }

    public var trackedStreaks: Int { streaks.trackedCount }
    public var cachedResults: Int { cache.count }

    private static func relativePathError(_ path: String) -> DatabaseError? {
        path.hasPrefix("/") ? nil : .invalidArgument("the path must be absolute, got \"\(path)\"")
    }

    // MARK: CheckDb

    /// `maxErrors` 0: the default (`SidecarDefaults.dbCheckMaxErrors`).
    /// `caller`: answered only about a file it could read itself.
    public func check(
        path: String, mode: DbCheckMode, maxErrors: Int, caller: Caller = .daemon, _ completion: @escaping CheckCompletion
    ) {
        if let relative = Self.relativePathError(path) { return completion(.failure(relative)) }
        runner.resolve(path, roots: settings.roots) { [self] resolution in
            route(resolution, requested: path, mode: mode, maxErrors: maxErrors, caller: caller, completion)
        }
    }

    private func route(
        _ resolution: DatabasePathResolution, requested: String, mode: DbCheckMode, maxErrors: Int, caller: Caller,
        _ completion: @escaping CheckCompletion
    ) {
        switch resolution {
        case .outside(let resolved, let roots):
            onCheckOutcome("outside_roots")
            completion(.failure(.outsideRoots(requested: requested, resolved: resolved, roots: roots)))
        case .notUTF8:
            completion(.failure(.invalidArgument(
                "\(requested) resolves, through a link, to a file name that is not UTF-8; sidecard names files only in UTF-8 "
                    + "and does not guess which file is meant (rename it, or point the link at a UTF-8 name)")))
        case .unavailable(let reason):
            onCheckOutcome("busy")
            completion(.success(DbCheckAnswer(
                result: DbCheckResult(verdict: .busy, messages: [reason]), shared: false, reused: false, resolvedPath: requested)))
        case .inside(let resolved, let root, let fingerprint, let isDirectory, let access):
            // Before the cache and shared runs: a verdict one caller may
            // hear is not every caller's.
            if let refusal = access.refusal(for: caller) {
                onCheckOutcome("not_readable")
                return completion(.failure(.notReadable(path: resolved, reason: refusal)))
            }
            if isDirectory {
                return completion(.success(DbCheckAnswer(
                    result: DbCheckResult(verdict: .notADatabase, messages: ["\(resolved) is a directory"]),
                    shared: false, reused: false, resolvedPath: resolved)))
            }
            guard let fingerprint else {
                return completion(.success(DbCheckAnswer(
                    result: DbCheckResult(verdict: .missing, messages: ["\(resolved) does not exist"]),
                    shared: false, reused: false, resolvedPath: resolved)))
            }
            let key = CheckKey(mode: mode, path: resolved)
            if let cached = cache[key], cached.fingerprint == fingerprint {
                onCheckOutcome("reused")
                return completion(.success(DbCheckAnswer(result: cached.result, shared: false, reused: true, resolvedPath: resolved)))
            }
            if inFlight[key] != nil {
                onCheckOutcome("shared")
                inFlight[key]?.append(completion)
                return
            }
            inFlight[key] = [completion]
            let job = DbCheckJob(
                path: resolved, root: root, mode: mode, maxErrors: maxErrors > 0 ? maxErrors : SidecarDefaults.dbCheckMaxErrors,
                busyTimeoutMilliseconds: Int32(clamping: Int(settings.busyTimeoutSeconds * 1000)))
            let start = { [self] in run(job, key: key) }
            if running < settings.maxConcurrentChecks {
                start()
            } else {
                waitingToStart.append(start)
            }
        }
    }

    private func run(_ job: DbCheckJob, key: CheckKey) {
        running += 1
        onCheckOutcome("run")
        runner.check(job) { [self] fingerprint, result in
            finish(key: key, fingerprint: fingerprint, result: result)
        }
    }

    private func finish(key: CheckKey, fingerprint: FileFingerprint?, result: DbCheckResult) {
        running -= 1
        // BUSY, MISSING and UNREADABLE say nothing lasting about the file's
        // content (a chmod does not change the fingerprint).
        if let fingerprint, ![.busy, .missing, .unreadable].contains(result.verdict) {
            if cache.count >= Self.cacheLimit { cache.removeAll() }
            cache[key] = (fingerprint, result)
        }
        if result.verdict == .corrupt || result.verdict == .notADatabase {
            onEvent(DatabaseEvent(
                topic: "db.corrupt", subject: key.path, message: result.messages.first ?? result.verdict.rawValue,
                attributes: ["verdict": result.verdict.rawValue]))
        }
        let waiters = inFlight.removeValue(forKey: key) ?? []
        for (index, completion) in waiters.enumerated() {
            completion(.success(DbCheckAnswer(result: result, shared: index > 0, reused: false, resolvedPath: key.path)))
        }
        if !waitingToStart.isEmpty, running < settings.maxConcurrentChecks {
            waitingToStart.removeFirst()()
        }
    }

    // MARK: ReportDbError

    public func report(
        path: String, clientID: String, message: String, sqliteCode: Int32?, ok: Bool, caller: Caller = .daemon,
        _ completion: @escaping ReportCompletion
    ) {
        guard !clientID.isEmpty else { return completion(.failure(.invalidArgument("client_id must not be empty"))) }
        let kind: CorruptionStreaks.Report
        if ok {
            kind = .success
        } else if message.isEmpty && sqliteCode == nil {
            return completion(.failure(.invalidArgument("give the error message or SQLite code, or ok for a success")))
        } else {
            let verdict = classifier.classify(FailureReport(message: message, sqliteCode: sqliteCode))
            kind = verdict.category == "db_corrupt" ? .corruption : .otherError
        }
        if let relative = Self.relativePathError(path) { return completion(.failure(relative)) }
        runner.resolve(path, roots: settings.roots) { [self] resolution in
            guard case .inside(let resolved, _, _, _, let access) = resolution, access.refusal(for: caller) == nil else {
                return route(resolution, requested: path, mode: .quick, maxErrors: 0, caller: caller) { answer in
                    if case .failure(let error) = answer { completion(.failure(error)) }
                }
            }
            let threshold = UInt32(streaks.threshold)
            let streak = UInt32(streaks.record(kind, client: clientID, path: resolved, owner: caller.uid, now: clock()))
            guard kind == .corruption, streak >= threshold else {
                return completion(.success(DbErrorAdvice(action: .continue, streak: streak, threshold: threshold)))
            }
            route(resolution, requested: path, mode: .quick, maxErrors: 0, caller: caller) { [self] answer in
                completion(answer.map { advise($0.result, path: resolved, client: clientID, streak: streak, threshold: threshold) })
            }
        }
    }

    /// At the threshold: the host's verdict decides between respawning and restoring.
    private func advise(_ result: DbCheckResult, path: String, client: String, streak: UInt32, threshold: UInt32) -> DbErrorAdvice {
        switch result.verdict {
        case .ok:
            onEvent(DatabaseEvent(
                topic: "db.torn_view", subject: path, message: "client \(client) sees corruption the host does not",
                attributes: ["client": client, "streak": "\(streak)"]))
            return DbErrorAdvice(
                action: .exitTempfail, streak: streak, threshold: threshold,
                remedy: "\(path) is intact on the host: your view of it is torn (a stale page cache on the mount). "
                    + "Exit 75 (EX_TEMPFAIL) and be respawned with a fresh mount.",
                verdict: .ok)
        case .corrupt, .notADatabase, .missing:
            return DbErrorAdvice(
                action: .corrupt, streak: streak, threshold: threshold,
                remedy: DbRemedy.restore(path, finding: result.messages.first ?? result.verdict.rawValue),
                verdict: result.verdict)
        case .unreadable:
            // Not a verdict on the content: a client must never be told to
            // restore a file only because the daemon may not read it.
            return DbErrorAdvice(
                action: .continue, streak: streak, threshold: threshold,
                remedy: "the host may not read \(path) (\(result.messages.first ?? "permission denied")): "
                    + "give sidecard read access to it (its user or group) so it can judge the file; keep reporting",
                verdict: result.verdict)
        case .busy, .outsideRoots:
            return DbErrorAdvice(
                action: .continue, streak: streak, threshold: threshold,
                remedy: "the host could not check \(path) (\(result.messages.first ?? "busy")); keep reporting",
                verdict: result.verdict)
        }
    }
}
