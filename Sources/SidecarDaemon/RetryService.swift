import SidecarConfig
import SidecarCore
import SidecarLoop
import SidecarStore
import SidecarWire

/// The retry ledger on the loop, made durable by group commit: a call's
/// change is answered only after the transaction that holds it commits.
/// Changes gathered during a loop turn (and while a commit is running) go
/// to the thread pool as one transaction, so a thousand grants cost one
/// fsync, not a thousand, and the loop never waits for the disk.
final class RetryService: DaemonService {
    private(set) var ledger: RetryLedger
    private let store: RetryLedgerStore
    private let loop: EventLoop
    private let context: DaemonContext
    private var dirtyKeys: Set<String> = []
    private var waiting: [(SidecarError?) -> Void] = []
    private var committing = false
    /// Since when a commit has run past `retry.commit_timeout`; changes are
    /// refused until it returns.
    private var stuckCommitSince: Double?
    private var sweepTimer: LoopTimer?

    /// How often idle keys are expired.
    static let sweepIntervalMilliseconds: UInt64 = 60_000

    init(loop: EventLoop, context: DaemonContext, store: RetryLedgerStore) throws {
        self.loop = loop
        self.context = context
        self.store = store
        ledger = Self.makeLedger(context.config, classifier: context.classifier)
        ledger.restore(try store.loadAll())
        let timer = try LoopTimer(loop: loop)
        timer.unref()
        timer.start(after: Self.sweepIntervalMilliseconds, repeat: Self.sweepIntervalMilliseconds) { [unowned self] in
            self.sweep()
        }
        sweepTimer = timer
    }

    private static func makeLedger(_ config: DaemonConfig, classifier: ErrorClassifier) -> RetryLedger {
        RetryLedger(
            policies: config.retry.policies,
            budget: RetryBudget(percent: config.retry.budgetPercent, minConcurrency: config.retry.minRetryConcurrency),
            keyIdleExpirySeconds: config.retry.keyIdleExpirySeconds,
            attemptTimeoutSeconds: config.retry.attemptTimeoutSeconds, maxKeys: config.retry.maxKeys, classifier: classifier)
    }

    /// A reload changes policies, the budget and the classifier; records stay.
    func configure(_ config: DaemonConfig) {
        let classifier = context.classifier
        ledger.policies = config.retry.policies
        ledger.budget = RetryBudget(percent: config.retry.budgetPercent, minConcurrency: config.retry.minRetryConcurrency)
        ledger.keyIdleExpirySeconds = config.retry.keyIdleExpirySeconds
        ledger.attemptTimeoutSeconds = config.retry.attemptTimeoutSeconds
        ledger.maxKeys = config.retry.maxKeys
        ledger.classifier = classifier
    }

    // MARK: Operations

    typealias Done<Answer> = (Result<Answer, SidecarError>) -> Void

    /// Decides, then answers once the decision is committed.
    func reserve(
        key: String, policy: String, lastError: String, exitCode: Int32?, image: String, caller: Caller,
        _ done: @escaping Done<RetryDecision>
    ) throws {
        try refuseWhileCommitStuck()
        let decision: RetryDecision
        do {
            decision = try ledger.reserve(
                key: key, policy: policy, lastError: lastError, exitCode: exitCode, image: image.isEmpty ? nil : image,
                now: WallClock.unixSeconds(), caller: caller)
        } catch .full(let maxKeys) {
            context.metrics.increment(.stateFull, label: "retry_keys")
            throw RetryLedgerError.full(maxKeys: maxKeys)
        }
        context.metrics.increment(.retryDecisions, label: Self.label(decision))
        switch decision {
        case .deniedPermanent(let category, let remedy):
            context.events.publish(topic: "retry.denied", subject: key, message: remedy, attributes: ["category": category])
        case .exhausted(let attempts, _, let lastError):
            context.events.publish(topic: "retry.exhausted", subject: key, message: lastError, attributes: ["attempts": "\(attempts)"])
        case .granted, .throttled:
            break
        }
        answer(decision, afterCommitOf: key, done)
    }

    func complete(key: String, success: Bool, error: String, caller: Caller, _ done: @escaping Done<Void>) throws {
        try refuseWhileCommitStuck()
        let changed = try ledger.complete(key: key, success: success, error: error, now: WallClock.unixSeconds(), caller: caller)
        guard changed else { return done(.success(())) }
        answer((), afterCommitOf: key, done)
    }

    func reset(key: String, by caller: Caller, _ done: @escaping Done<Void>) throws {
        try refuseWhileCommitStuck()
        guard ledger.reset(key: key) else { throw RetryLedgerError.unknownKey(key) }
        context.logger.info("retry key \(key) reset by \(caller)")
        answer((), afterCommitOf: key, done)
    }

    /// `state` empty for all; `keyPrefix` empty for every key.
    func list(
        state: String, keyPrefix: String, visibleTo caller: Caller, page: PageRequest, byteBudget: Int
    ) throws -> Page<RetryRecord> {
        if !state.isEmpty && RetryRecord.State(rawValue: state) == nil {
            let states = RetryRecord.State.allCases.map(\.rawValue).joined(separator: ", ")
            throw SidecarError(.invalidArgument, "unknown state \"\(state)\" (states: \(states))")
        }
        return ledger.page(
            page, byteBudget: byteBudget, visibleTo: caller, state: RetryRecord.State(rawValue: state), keyPrefix: keyPrefix,
            bytes: \.wireSizeBound)
    }

    /// Every state with how many keys are in it (for the metrics).
    func keyCountsByState() -> [String: Int] {
        var counts = Dictionary(uniqueKeysWithValues: RetryRecord.State.allCases.map { ($0.rawValue, 0) })
        for record in ledger.records.values { counts[record.state.rawValue, default: 0] += 1 }
        return counts
    }

    private func sweep() {
        for key in ledger.expire(now: WallClock.unixSeconds()) {
            afterCommit(of: key) { _ in }
        }
    }

    // MARK: Group commit

    /// A change now could be answered only after the stuck commit: refused.
    private func refuseWhileCommitStuck() throws {
        guard let since = stuckCommitSince else { return }
        let seconds = Int(WallClock.unixSeconds() - since)
        throw SidecarError(
            .unavailable,
            "the retry ledger cannot commit: a commit has run past retry.commit_timeout for \(seconds) s more (a hung disk?); nothing is changed until it returns")
    }

    /// Answers `value` once the commit holding `key`'s change is durable,
    /// or that commit's failure.
    private func answer<Value>(_ value: Value, afterCommitOf key: String, _ done: @escaping Done<Value>) {
        afterCommit(of: key) { failure in done(failure.map { .failure($0) } ?? .success(value)) }
    }

    private func afterCommit(of key: String, _ reply: @escaping (SidecarError?) -> Void) {
        dirtyKeys.insert(key)
        waiting.append(reply)
    }

    /// Called once per loop turn: starts a commit of what the turn changed,
    /// unless one is running (its completion starts the next).
    func commitPending() {
        guard !committing, !dirtyKeys.isEmpty else { return }
        var upserts: [RetryRecord] = []
        var deletes: [String] = []
        for key in dirtyKeys {
            if let record = ledger.records[key] { upserts.append(record) } else { deletes.append(key) }
        }
        dirtyKeys.removeAll(keepingCapacity: true)
        let replies = waiting
        waiting = []
        committing = true
        let store = self.store
        let (batchUpserts, batchDeletes) = (upserts, deletes)
        let timeout = context.config.retry.commitTimeoutSeconds
        do {
            try ThreadPoolWork.compute(loop: loop, within: UInt64(timeout * 1000), { () -> String? in
                do {
                    try store.write(upserts: batchUpserts, deletes: batchDeletes)
                    return nil
                } catch {
                    return "\(error)"
                }
            }, then: { [self] outcome in
                guard let commitFailure = outcome else {
                    // Still `committing`: the store is the stuck thread's
                    // until it returns. Nobody is told it is durable.
                    stuckCommitSince = WallClock.unixSeconds()
                    context.metrics.increment(.retryCommits, label: "timed_out")
                    context.logger.error("retry ledger commit of \(upserts.count + deletes.count) keys still runs after retry.commit_timeout; refusing changes until it returns")
                    let failure = SidecarError(.unavailable, "the retry ledger's commit did not finish within retry.commit_timeout; this change may or may not be durable")
                    // Those that changed since wait behind it: told the same now
                    // (their rows are still written once it returns).
                    let behind = waiting
                    waiting = []
                    for reply in replies + behind { reply(failure) }
                    return
                }
                committing = false
                context.metrics.increment(.retryCommits, label: commitFailure == nil ? "ok" : "failed")
                var failure: SidecarError?
                if let reason = commitFailure {
                    context.logger.error("retry ledger commit of \(upserts.count + deletes.count) keys failed: \(reason)")
                    failure = SidecarError(.unavailable, "cannot persist the retry ledger: \(reason)")
                }
                for reply in replies { reply(failure) }
                commitPending()
            }, lateEnd: { [self] in
                context.logger.warning("the stuck retry ledger commit returned; changes are taken again")
                committing = false
                stuckCommitSince = nil
                commitPending()
            })
        } catch {
            committing = false
            let failure = SidecarError(.internal, "cannot start a retry ledger commit: \(error)")
            for reply in replies { reply(failure) }
        }
    }

    func close() {
        sweepTimer?.close()
        sweepTimer = nil
    }

    private static func label(_ decision: RetryDecision) -> String {
        switch decision {
        case .granted: "granted"
        case .deniedPermanent: "denied_permanent"
        case .exhausted: "exhausted"
        case .throttled: "throttled"
        }
    }
}

/// Carries a commit's failure from the pool thread to the loop thread; the
/// pool writes it before the loop's completion callback reads it.
