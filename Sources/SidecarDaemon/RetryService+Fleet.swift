import SidecarConfig
import SidecarCore
import SidecarFleet
import SidecarLoop
import SidecarWire

/// Fleet mode's side of the retry ledger: which ledger answers a call, the
/// fleet's answers, its counts for the metrics, and the merge of what this
/// host decided alone.
extension RetryService {
    static func fleetSettings(_ config: DaemonConfig, hostID: String) -> FleetRetryLedger.Settings {
        FleetRetryLedger.Settings(
            hostID: hostID,
            budget: budget(config), maxKeys: config.retry.maxKeys, attemptTimeoutSeconds: config.retry.attemptTimeoutSeconds,
            timeoutMilliseconds: UInt64(config.fleet.queryTimeoutSeconds * 1000))
    }

    /// Where a call goes: the fleet's ledger, this host's (fleet mode off,
    /// or degraded with degraded_retry = "local"), or nowhere (degraded
    /// with "throttle").
    enum Route {
        case fleet(FleetRetryLedger)
        case local(degraded: Bool)
        case throttle
    }

    var route: Route {
        guard let fleet else { return .local(degraded: false) }
        if fleet.service.link.isUsable { return .fleet(fleet.ledger) }
        return fleet.service.settings.degradedRetry == .local ? .local(degraded: true) : .throttle
    }

    func fleetUnreachable() -> SidecarError {
        let reason: String
        if case .degraded(let why, _) = fleet?.service.link.status { reason = why } else { reason = "not connected yet" }
        return SidecarError(.unavailable, "the fleet's retry ledger is unreachable (\(reason)); ask again once it is back")
    }

    static func fleetFailure(_ failure: FleetRetryLedger.Failure) -> SidecarError {
        switch failure {
        case .rule(let error): StatusMapping.status(for: error)
        case .unavailable(let reason): SidecarError(.unavailable, "the fleet's retry ledger did not answer: \(reason)")
        }
    }

    /// The fleet decides; the daemon classifies and draws the jitter.
    func reserve(
        in shared: FleetRetryLedger, key: String, policy: String, lastError: String, exitCode: Int32?, image: String,
        caller: Caller, _ done: @escaping Done<ReserveRetrySlotResponse>
    ) throws {
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
    }

    func readFleetCounts() {
        guard let fleet, fleet.service.link.isUsable else { return }
        fleet.ledger.countsByState { [weak self] result in
            if case .success(let counts) = result { self?.fleetCounts = counts }
        }
    }

    // MARK: Fleet merge

    /// What this host's ledger decided while the fleet was away goes into
    /// the fleet's, key by key; a key merged (and committed) leaves this
    /// host's ledger. Runs at every (re)connect, so a daemon restarted while
    /// degraded merges at its first connect.
    func mergeLocalIntoFleet() {
        guard let fleet, !ledger.records.isEmpty else { return }
        let records = Array(ledger.records.values)
        context.logger.info("fleet: merging \(records.count) retry keys decided on this host while degraded")
        for record in records {
            fleet.ledger.merge(record) { [self] result in
                switch result {
                case .success:
                    context.metrics.increment(.fleetMerged, label: "merged")
                    forget(merged: record)
                case .failure(let failure):
                    context.metrics.increment(.fleetMerged, label: "failed")
                    context.logger.warning("fleet: merging retry key \(record.key) failed (kept for the next connect): \(failure)")
                }
            }
        }
        fleet.ledger.flush()
    }
}
