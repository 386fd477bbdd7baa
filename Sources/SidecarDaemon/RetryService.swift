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
    private let context: DaemonContext
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
    private let fleet: (service: FleetService, ledger: FleetRetryLedger)?
    /// The fleet's keys by state, read every few seconds for the metrics.
    private var fleetCounts: [String: Int] = [:]
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

    private static func fleetSettings(_ config: DaemonConfig, hostID: String) -> FleetRetryLedger.Settings {
        FleetRetryLedger.Settings(
            hostID: hostID,
            budget: RetryBudget(percent: config.retry.budgetPercent, minConcurrency: config.retry.minRetryConcurrency),
            maxKeys: config.retry.maxKeys, attemptTimeoutSeconds: config.retry.attemptTimeoutSeconds,
            timeoutMilliseconds: UInt64(config.fleet.queryTimeoutSeconds * 1000))
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
        if let fleet { fleet.ledger.settings = Self.fleetSettings(config, hostID: fleet.service.hostID) }
    }

    /// Where a call goes: the fleet's ledger, this host's (fleet mode off,
    /// or degraded with degraded_retry = "local"), or nowhere (degraded
    /// with "throttle").
    private enum Route {
        case fleet(FleetRetryLedger)
        case local(degraded: Bool)
        case throttle
    }

    private var route: Route {
        guard let fleet else { return .local(degraded: false) }
        if fleet.service.link.isUsable { return .fleet(fleet.ledger) }
        return fleet.service.settings.degradedRetry == .local ? .local(degraded: true) : .throttle
    }

    private func fleetUnreachable() -> SidecarError {
        let reason: String
        if case .degraded(let why, _) = fleet?.service.link.status { reason = why } else { reason = "not connected yet" }
        return SidecarError(.unavailable, "the fleet's retry ledger is unreachable (\(reason)); ask again once it is back")
    }

    private static func fleetFailure(_ failure: FleetRetryLedger.Failure) -> SidecarError {
        switch failure {
        case .rule(let error): StatusMapping.status(for: error)
        case .unavailable(let reason): SidecarError(.unavailable, "the fleet's retry ledger did not answer: \(reason)")
        }
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
            guard !key.isEmpty else { throw RetryLedgerError.emptyKey }
            let name = policy.isEmpty ? RetryLedger.defaultPolicyName : policy
            let rules = try ledger.policy(named: name)
            let verdict = ledger.classifier.classify(FailureReport(message: lastError, exitCode: exitCode, image: image.isEmpty ? nil : image))
            shared.reserve(
                key: key, policyName: name, policy: rules, lastError: lastError, verdict: verdict,
                jitter: Double.random(in: 0..<1), now: WallClock.unixSeconds(), caller: caller
            ) { [self] result in
                switch result {
                case .success(let decision):
                    announce(decision, key: key)
                    done(.success(ReserveRetrySlotResponse(decision: decision)))
                case .failure(.rule(.full(let maxKeys))):
                    context.metrics.increment(.stateFull, label: "retry_keys")
                    done(.failure(StatusMapping.status(for: RetryLedgerError.full(maxKeys: maxKeys))))
                case .failure(let failure):
                    done(.failure(Self.fleetFailure(failure)))
                }
            }
            return
        case .throttle:
            _ = try ledger.policy(named: policy)
            context.metrics.increment(.fleetLocalAnswers, label: "ReserveRetrySlot")
            let decision = RetryDecision.throttled(retryAfterSeconds: 1)
            context.metrics.increment(.retryDecisions, label: Self.label(decision))
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

    private func announce(_ decision: RetryDecision, key: String) {
        context.metrics.increment(.retryDecisions, label: Self.label(decision))
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

    private func readFleetCounts() {
        guard let fleet, fleet.service.link.isUsable else { return }
        fleet.ledger.countsByState { [weak self] result in
            if case .success(let counts) = result { self?.fleetCounts = counts }
        }
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

    // MARK: Fleet merge

    /// What this host's ledger decided while the fleet was away goes into
    /// the fleet's, key by key; a key merged (and committed) leaves this
    /// host's ledger. Runs at every (re)connect, so a daemon restarted while
    /// degraded merges at its first connect.
    private func mergeLocalIntoFleet() {
        guard let fleet, !ledger.records.isEmpty else { return }
        let records = Array(ledger.records.values)
        context.logger.info("fleet: merging \(records.count) retry keys decided on this host while degraded")
        for record in records {
            fleet.ledger.merge(record) { [self] result in
                switch result {
                case .success:
                    context.metrics.increment(.fleetMerged, label: "merged")
                    // Only if unchanged since: a change made meanwhile waits for the next merge.
                    guard ledger.records[record.key] == record else { return }
                    _ = ledger.reset(key: record.key)
                    afterCommit(of: record.key) { _ in }
                case .failure(let failure):
                    context.metrics.increment(.fleetMerged, label: "failed")
                    context.logger.warning("fleet: merging retry key \(record.key) failed (kept for the next connect): \(failure)")
                }
            }
        }
        fleet.ledger.flush()
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
        fleetCountsTimer?.close()
        fleetCountsTimer = nil
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
