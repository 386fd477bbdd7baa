/// Decides "may this be retried, and when" for every operation on the host
/// (seed 003: a permanent error retried for two hours, every runner keeping
/// its own counter and losing it on restart). Pure: the time comes in as an
/// argument and the jitter from an injected source, so tests need no clock.
/// The daemon persists every record this changes before it answers.
public struct RetryLedger: Sendable {
    public private(set) var records: [String: RetryRecord] = [:]
    /// Counted as records change, so a reserve costs O(1), not a scan.
    private var activeKeys = 0
    private var inFlightKeys: Set<String> = []
    public var policies: [String: RetryPolicy]
    public var budget: RetryBudget
    public var keyIdleExpirySeconds: Double
    /// A grant whose outcome is never reported stops counting against the
    /// budget after this long (its runner died).
    public var attemptTimeoutSeconds: Double
    /// The most keys the ledger holds; a reserve of a new key past it is
    /// refused (`retry.max_keys`), so no client can grow it without end.
    public var maxKeys: Int
    public var classifier: ErrorClassifier {
        get { verdicts.classifier }
        set { verdicts.classifier = newValue }
    }
    private var verdicts: VerdictMemo
    private var jitter: Jitter

    public static let defaultPolicyName = "default"

    public init(
        policies: [String: RetryPolicy], budget: RetryBudget, keyIdleExpirySeconds: Double,
        attemptTimeoutSeconds: Double = 900, maxKeys: Int = .max, classifier: ErrorClassifier,
        random: (@Sendable () -> Double)? = nil
    ) {
        self.policies = policies
        self.budget = budget
        self.keyIdleExpirySeconds = keyIdleExpirySeconds
        self.attemptTimeoutSeconds = attemptTimeoutSeconds
        self.maxKeys = maxKeys
        verdicts = VerdictMemo(classifier: classifier)
        jitter = random.map(Jitter.init) ?? .seeded()
    }

    /// Loads records persisted by an earlier run.
    public mutating func restore(_ saved: [RetryRecord]) {
        for record in saved { put(record, for: record.key) }
    }

    public func policy(named name: String) throws(RetryLedgerError) -> RetryPolicy {
        let name = name.isEmpty ? Self.defaultPolicyName : name
        guard let policy = policies[name] else { throw .unknownPolicy(name, known: policies.keys.sorted()) }
        return policy
    }

    // MARK: Reserve

    /// `caller`: a new key is its own; a known key must be (or it an admin).
    /// A known key's record is found once and changed where it lies: every
    /// reserve is a change, and each String hash or record copy counted.
    public mutating func reserve(
        key: String, policy policyName: String, lastError: String, exitCode: Int32?, image: String? = nil, now: Double,
        caller: Caller = .daemon
    ) throws(RetryLedgerError) -> RetryDecision {
        guard !key.isEmpty else { throw .emptyKey }
        let name = policyName.isEmpty ? Self.defaultPolicyName : policyName
        let policy = try policy(named: name)
        let failure = Failure(policy: name, message: lastError, exitCode: exitCode, image: image, now: now)
        // Only an active key can be in flight; an empty set is not hashed into.
        let wasInFlight = !inFlightKeys.isEmpty && inFlightKeys.contains(key)
        let budget = BudgetState(activeKeys: activeKeys, inFlight: inFlightKeys.count - (wasInFlight ? 1 : 0), limit: budget)
        let outcome: Outcome
        if let index = records.index(forKey: key) {
            // Read and changed in place: a Dictionary.Values getter copies
            // the whole record (seven strings) to read one field.
            outcome = try Self.decide(
                &records.values[index], caller: caller, policy: policy, failure: failure, budget: budget, verdicts: &verdicts,
                jitter: &jitter)
        } else {
            if records.count >= maxKeys { throw .full(maxKeys: maxKeys) }
            var record = RetryRecord(key: key, policy: name, now: now, ownerUID: caller.uid)
            outcome = try Self.decide(
                &record, isNew: true, caller: caller, policy: policy, failure: failure, budget: budget, verdicts: &verdicts,
                jitter: &jitter)
            records[key] = record
        }
        if outcome.isActive != outcome.wasActive { activeKeys += outcome.isActive ? 1 : -1 }
        if outcome.isInFlight != wasInFlight {
            if outcome.isInFlight { inFlightKeys.insert(key) } else { inFlightKeys.remove(key) }
        }
        return outcome.decision
    }

    /// A decision, and how its record's state moved (for the counters).
    private struct Outcome {
        let decision: RetryDecision
        let wasActive: Bool
        let isActive: Bool
        let isInFlight: Bool
    }

    /// What a reserve reports, under which policy.
    private struct Failure {
        let policy: String
        let message: String
        let exitCode: Int32?
        let image: String?
        let now: Double
    }

    /// The budget as it stands for the key being reserved: the active keys
    /// not yet counting it (the decision adds it), the grants in flight not
    /// counting its own.
    private struct BudgetState {
        let activeKeys: Int
        let inFlight: Int
        let limit: RetryBudget

        func isSpent(countingKey keyIsCounted: Bool) -> Bool {
            inFlight >= limit.limit(activeKeys: activeKeys + (keyIsCounted ? 0 : 1))
        }
    }

    /// The decision for one reserve, made on its record.
    private static func decide(
        _ record: inout RetryRecord, isNew: Bool = false, caller: Caller, policy: RetryPolicy, failure: Failure,
        budget: BudgetState, verdicts: inout VerdictMemo, jitter: inout Jitter
    ) throws(RetryLedgerError) -> Outcome {
        try checkOwner(record.ownerUID, of: record.key, caller: caller)
        // A new record is active but not yet counted.
        let wasActive = !isNew && record.state == .active
        let decision = decision(
            &record, policy: policy, failure: failure, budget: budget, keyIsCounted: wasActive, verdicts: &verdicts, jitter: &jitter)
        let isActive = record.state == .active
        return Outcome(
            decision: decision, wasActive: wasActive, isActive: isActive, isInFlight: isActive && record.inFlightSince != nil)
    }

    private static func decision(
        _ record: inout RetryRecord, policy: RetryPolicy, failure: Failure, budget: BudgetState, keyIsCounted: Bool,
        verdicts: inout VerdictMemo, jitter: inout Jitter
    ) -> RetryDecision {
        if record.state == .succeeded {
            // A new failure after a success is a new episode, of the same owner.
            record = RetryRecord(key: record.key, policy: failure.policy, now: failure.now, ownerUID: record.ownerUID)
        }
        record.updatedAt = failure.now
        if !failure.message.isEmpty {
            if record.firstError.isEmpty { record.firstError = failure.message }
            record.lastError = failure.message
        }
        // The last grant, if still open, ended in the failure being reported now.
        record.inFlightSince = nil

        switch record.state {
        case .failed:
            return .deniedPermanent(category: record.category, remedy: record.remedy)
        case .exhausted:
            return .exhausted(attempts: record.attempts, firstError: record.firstError, lastError: record.lastError)
        case .active, .succeeded:
            break
        }
        let verdict = verdicts.classify(FailureReport(message: failure.message, exitCode: failure.exitCode, image: failure.image))
        if verdict.permanent {
            record.state = .failed
            record.category = verdict.category
            record.remedy = verdict.remedy
            return .deniedPermanent(category: verdict.category, remedy: verdict.remedy)
        }
        if record.attempts >= policy.maxAttempts {
            record.state = .exhausted
            return .exhausted(attempts: record.attempts, firstError: record.firstError, lastError: record.lastError)
        }
        if budget.isSpent(countingKey: keyIsCounted) {
            return .throttled(retryAfterSeconds: max(1, policy.baseDelaySeconds))
        }
        record.attempts += 1
        let delay = jitter.next() * policy.delayCeiling(attempt: record.attempts)
        record.notBefore = failure.now + delay
        record.inFlightSince = failure.now
        return .granted(attempt: record.attempts, delaySeconds: delay, notBefore: record.notBefore)
    }

    private static func checkOwner(_ owner: UInt32?, of key: String, caller: Caller) throws(RetryLedgerError) {
        guard let owner, !caller.mayTouch(ownedBy: owner) else { return }
        throw .notOwner(NotOwnerError(what: "retry key \"\(key)\"", owner: owner, caller: caller.uid))
    }

    /// One page of the records `caller` may read, in `state` (nil: any),
    /// with keys starting `keyPrefix`. The pass reads each record in place
    /// by its index and copies only the page's: copying every record out
    /// (seven strings each) was most of a page's cost at 100,000 keys.
    public func page(
        _ request: PageRequest, byteBudget: Int, visibleTo caller: Caller, state: RetryRecord.State?, keyPrefix: String,
        bytes: (RetryRecord) -> Int
    ) -> Page<RetryRecord> {
        var smallest = SmallestKeys<Dictionary<String, RetryRecord>.Index>(capacity: request.size + 1)
        var index = records.startIndex
        while index != records.endIndex {
            defer { index = records.index(after: index) }
            let key = records.keys[index]
            if let after = request.after, key <= after { continue }
            if !keyPrefix.isEmpty && !key.hasPrefix(keyPrefix) { continue }
            if let state, records.values[index].state != state { continue }
            guard caller.mayTouch(ownedBy: records.values[index].ownerUID) else { continue }
            smallest.offer(key, index)
        }
        return smallest.sorted().lazy.map { self.records.values[$0.item] }
            .page(PageRequest(size: request.size, method: request.method), byteBudget: byteBudget, key: \.key, bytes: bytes)
    }

    // MARK: Complete, reset, expire

    /// Records how a granted attempt ended. Returns false when nothing changed
    /// (the same outcome reported twice).
    public mutating func complete(
        key: String, success: Bool, error: String, now: Double, caller: Caller = .daemon
    ) throws(RetryLedgerError) -> Bool {
        guard var record = records[key] else { throw .unknownKey(key) }
        try Self.checkOwner(record.ownerUID, of: key, caller: caller)
        let before = record
        record.inFlightSince = nil
        if success {
            record.state = .succeeded
        } else if !error.isEmpty {
            if record.firstError.isEmpty { record.firstError = error }
            record.lastError = error
        }
        guard record != before else { return false }
        record.updatedAt = now
        put(record, for: key)
        return true
    }

    /// Forgets a key entirely. Returns false if it was not known.
    public mutating func reset(key: String) -> Bool {
        guard records[key] != nil else { return false }
        put(nil, for: key)
        return true
    }

    /// Removes keys untouched for their idle expiry (returned), and stops
    /// counting grants older than the attempt time-out as in flight.
    public mutating func expire(now: Double) -> [String] {
        var expired: [String] = []
        for (key, record) in records {
            let idle = policies[record.policy]?.keyIdleExpirySeconds ?? keyIdleExpirySeconds
            if now - record.updatedAt >= idle { expired.append(key) }
        }
        for key in expired { put(nil, for: key) }
        for key in inFlightKeys {
            if let since = records[key]?.inFlightSince, now - since >= attemptTimeoutSeconds { inFlightKeys.remove(key) }
        }
        return expired.sorted()
    }

    /// The one place a record changes, so the counters stay true.
    private mutating func put(_ record: RetryRecord?, for key: String) {
        if records[key]?.state == .active { activeKeys -= 1 }
        inFlightKeys.remove(key)
        records[key] = record
        guard let record else { return }
        if record.state == .active {
            activeKeys += 1
            if record.inFlightSince != nil { inFlightKeys.insert(key) }
        }
    }

    // MARK: Budget

    /// Grants not yet reported on (the attempt time-out is applied by `expire`).
    public func retriesInFlight(excluding excluded: String? = nil) -> Int {
        inFlightKeys.count - (excluded.map { inFlightKeys.contains($0) ? 1 : 0 } ?? 0)
    }

    public func activeKeyCount(including key: String? = nil) -> Int {
        activeKeys + (key.map { records[$0]?.state == .active ? 0 : 1 } ?? 0)
    }
}
