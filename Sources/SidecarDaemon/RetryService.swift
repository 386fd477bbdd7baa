import SidecarConfig
import SidecarCore
import SidecarFleet
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
    let context: DaemonContext
    private var dirtyKeys: Set<String> = []
    private var waiting: [(SidecarError?) -> Void] = []
    private var committing = false
    /// Since when a commit has run past `retry.commit_timeout`; changes are
    /// refused until it returns.
    private var stuckCommitSince: Double?
    private var sweepTimer: LoopTimer?
    /// Fleet mode: the ledger every host shares. This host's own ledger
    /// then answers only while the fleet is unreachable (degraded_retry =
    /// "local"), and what it holds is merged into the fleet's on reconnect.
    let fleet: (service: FleetService, ledger: FleetRetryLedger)?
    /// The fleet's keys by state, read every few seconds for the metrics.
    var fleetCounts: [String: Int] = [:]
    private var fleetCountsTimer: LoopTimer?

    /// How often idle keys are expired.
    static let sweepIntervalMilliseconds: UInt64 = 60_000

    init(loop: EventLoop, context: DaemonContext, store: RetryLedgerStore, fleet fleetService: FleetService?) throws {
        self.loop = loop
        self.context = context
        self.store = store
        ledger = Self.makeLedger(context.config, classifier: context.classifier)
        ledger.restore(try store.loadAll())
        if let fleetService {
            let shared = FleetRetryLedger(
                connection: fleetService.link.connection, settings: Self.fleetSettings(context.config, hostID: fleetService.hostID))
            fleet = (fleetService, shared)
        } else {
            fleet = nil
        }
        let timer = try LoopTimer(loop: loop)
        timer.unref()
        timer.start(after: Self.sweepIntervalMilliseconds, repeat: Self.sweepIntervalMilliseconds) { [unowned self] in
            self.sweep()
        }
        sweepTimer = timer
        if let fleetService {
            fleetService.onRestored.append { [unowned self] in mergeLocalIntoFleet() }
            let countsTimer = try LoopTimer(loop: loop)
            countsTimer.unref()
            countsTimer.start(after: 100, repeat: Self.fleetCountsIntervalMilliseconds) { [unowned self] in readFleetCounts() }
            fleetCountsTimer = countsTimer
        }
    }

    static let fleetCountsIntervalMilliseconds: UInt64 = 5000

    private static func makeLedger(_ config: DaemonConfig, classifier: ErrorClassifier) -> RetryLedger {
        RetryLedger(
            policies: config.retry.policies,
            budget: budget(config), keyIdleExpirySeconds: config.retry.keyIdleExpirySeconds,
            attemptTimeoutSeconds: config.retry.attemptTimeoutSeconds, maxKeys: config.retry.maxKeys, classifier: classifier)
    }

    static func budget(_ config: DaemonConfig) -> RetryBudget {
        RetryBudget(percent: config.retry.budgetPercent, minConcurrency: config.retry.minRetryConcurrency)
    }

    /// A key the fleet now holds leaves this host's ledger, unless it
    /// changed since it was sent (that change waits for the next merge).
    func forget(merged record: RetryRecord) {
        guard ledger.records[record.key] == record else { return }
        _ = ledger.reset(key: record.key)
        afterCommit(of: record.key) { _ in }
    }

    /// A reload changes policies, the budget and the classifier; records stay.
    func configure(_ config: DaemonConfig) {
        let classifier = context.classifier
        ledger.policies = config.retry.policies
        ledger.budget = Self.budget(config)
        ledger.keyIdleExpirySeconds = config.retry.keyIdleExpirySeconds
        ledger.attemptTimeoutSeconds = config.retry.attemptTimeoutSeconds
        ledger.maxKeys = config.retry.maxKeys
        ledger.classifier = classifier
        if let fleet { fleet.ledger.settings = Self.fleetSettings(config, hostID: fleet.service.hostID) }
    }

    // MARK: Operations

    typealias Done<Answer> = (Result<Answer, SidecarError>) -> Void

    /// Decides, then answers once the decision is committed.
    func reserve(
        key: String, policy: String, lastError: String, exitCode: Int32?, image: String, caller: Caller,
        _ done: @escaping Done<ReserveRetrySlotResponse>
    ) throws {
        let answeredLocally: Bool
        switch route {
        case .fleet(let shared):
            try reserve(in: shared, key: key, policy: policy, lastError: lastError, exitCode: exitCode, image: image, caller: caller, done)
            return
        case .throttle:
            _ = try ledger.policy(named: policy)
            context.metrics.increment(.fleetLocalAnswers, label: "ReserveRetrySlot")
            let decision = RetryDecision.throttled(retryAfterSeconds: 1)
            announce(decision, key: key)
            return done(.success(ReserveRetrySlotResponse(decision: decision, answeredLocally: true)))
        case .local(let degraded):
            if degraded { context.metrics.increment(.fleetLocalAnswers, label: "ReserveRetrySlot") }
            answeredLocally = degraded
        }
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
        announce(decision, key: key)
        answer(ReserveRetrySlotResponse(decision: decision, answeredLocally: answeredLocally), afterCommitOf: key, done)
    }

    func announce(_ decision: RetryDecision, key: String) {
        decisionCounts[Self.labelIndex(decision)] += 1
        switch decision {
        case .deniedPermanent(let category, let remedy):
            context.events.publish(topic: "retry.denied", subject: key, message: remedy, attributes: ["category": category])
        case .exhausted(let attempts, _, let lastError):
            context.events.publish(topic: "retry.exhausted", subject: key, message: lastError, attributes: ["attempts": "\(attempts)"])
        case .granted, .throttled:
            break
        }
    }

    func complete(key: String, success: Bool, error: String, caller: Caller, _ done: @escaping Done<Void>) throws {
        switch route {
        case .fleet(let shared):
            shared.complete(key: key, success: success, error: error, now: WallClock.unixSeconds(), caller: caller) { result in
                done(result.map { _ in () }.mapError(Self.fleetFailure))
            }
            return
        case .throttle:
            throw fleetUnreachable()
        case .local(let degraded):
            // A grant the fleet made is not in this host's ledger: its
            // outcome waits for the fleet.
            if degraded {
                guard ledger.records[key] != nil else { throw fleetUnreachable() }
                context.metrics.increment(.fleetLocalAnswers, label: "CompleteAttempt")
            }
        }
        try refuseWhileCommitStuck()
        let changed = try ledger.complete(key: key, success: success, error: error, now: WallClock.unixSeconds(), caller: caller)
        guard changed else { return done(.success(())) }
        answer((), afterCommitOf: key, done)
    }

    func reset(key: String, by caller: Caller, _ done: @escaping Done<Void>) throws {
        switch route {
        case .fleet(let shared):
            shared.reset(key: key) { [self] result in
                switch result {
                case .success(true):
                    context.logger.info("retry key \(key) reset by \(caller) (fleet-wide)")
                    done(.success(()))
                case .success(false): done(.failure(StatusMapping.status(for: RetryLedgerError.unknownKey(key))))
                case .failure(let failure): done(.failure(Self.fleetFailure(failure)))
                }
            }
            return
        case .throttle, .local(degraded: true):
            throw fleetUnreachable()
        case .local(degraded: false):
            break
        }
        try refuseWhileCommitStuck()
        guard ledger.reset(key: key) else { throw RetryLedgerError.unknownKey(key) }
        context.logger.info("retry key \(key) reset by \(caller)")
        answer((), afterCommitOf: key, done)
    }

    /// `state` empty for all; `keyPrefix` empty for every key.
    func list(
        state: String, keyPrefix: String, visibleTo caller: Caller, page: PageRequest, byteBudget: Int,
        _ done: @escaping Done<Page<RetryRecord>>
    ) throws {
        if !state.isEmpty && RetryRecord.State(rawValue: state) == nil {
            let states = RetryRecord.State.allCases.map(\.rawValue).joined(separator: ", ")
            throw SidecarError(.invalidArgument, "unknown state \"\(state)\" (states: \(states))")
        }
        switch route {
        case .fleet(let shared):
            shared.page(
                page, byteBudget: byteBudget, visibleTo: caller, state: RetryRecord.State(rawValue: state), keyPrefix: keyPrefix,
                bytes: \.wireSizeBound
            ) { done($0.mapError(Self.fleetFailure)) }
        case .throttle, .local(degraded: true):
            throw fleetUnreachable()
        case .local(degraded: false):
            done(.success(ledger.page(
                page, byteBudget: byteBudget, visibleTo: caller, state: RetryRecord.State(rawValue: state), keyPrefix: keyPrefix,
                bytes: \.wireSizeBound)))
        }
    }

    /// Every state with how many keys are in it (for the metrics): the
    /// fleet's in fleet mode (as last read), else this host's.
    func keyCountsByState() -> [String: Int] {
        var counts = Dictionary(uniqueKeysWithValues: RetryRecord.State.allCases.map { ($0.rawValue, 0) })
        if fleet != nil { return counts.merging(fleetCounts) { $1 } }
        for record in ledger.records.values { counts[record.state.rawValue, default: 0] += 1 }
        return counts
    }

    private func sweep() {
        let now = WallClock.unixSeconds()
        for key in ledger.expire(now: now) {
            afterCommit(of: key) { _ in }
        }
        if let fleet, fleet.service.link.isUsable {
            fleet.ledger.expire(now: now, policies: ledger.policies, defaultIdleSeconds: ledger.keyIdleExpirySeconds) { [self] result in
                if case .failure(let failure) = result { context.logger.warning("fleet: expiring idle retry keys failed: \(failure)") }
            }
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

    func afterCommit(of key: String, _ reply: @escaping (SidecarError?) -> Void) {
        dirtyKeys.insert(key)
        waiting.append(reply)
    }

    /// Called once per loop turn: starts a commit of what the turn changed,
    /// unless one is running (its completion starts the next).
    func commitPending() {
        fleet?.ledger.flush()
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
                var failure: SidecarError?
                if commitFailure == nil { commitsSucceeded += 1 } else { context.metrics.increment(.retryCommits, label: "failed") }
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
        fleetCountsTimer?.close()
        fleetCountsTimer = nil
    }

    static let decisionLabels = ["granted", "denied_permanent", "exhausted", "throttled"]

    static func labelIndex(_ decision: RetryDecision) -> Int {
        switch decision {
        case .granted: 0
        case .deniedPermanent: 1
        case .exhausted: 2
        case .throttled: 3
        }
    }

    /// Decisions by `decisionLabels`, and commits that succeeded, counted
    /// here and added to the metrics when they are read (as the images'
    /// present answers are): a labelled increment hashes two strings, and
    /// there is one per call.
    private var decisionCounts = [UInt64](repeating: 0, count: decisionLabels.count)
    private var commitsSucceeded: UInt64 = 0

    /// Brings the retry counters up to date, before the metrics are rendered.
    func flushCounts() {
        for (index, count) in decisionCounts.enumerated() where count > 0 {
            context.metrics.increment(.retryDecisions, label: Self.decisionLabels[index], by: count)
            decisionCounts[index] = 0
        }
        if commitsSucceeded > 0 {
            context.metrics.increment(.retryCommits, label: "ok", by: commitsSucceeded)
            commitsSucceeded = 0
        }
    }
}

/// Carries a commit's failure from the pool thread to the loop thread; the
/// pool writes it before the loop's completion callback reads it.
