/// How one kind of operation may be retried (DESIGN.md 4.3), by name from
/// `[retry.policy.NAME]`.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts = 5
    public var baseDelaySeconds = 1.0
    public var maxDelaySeconds = 300.0
    /// Overrides `retry.key_idle_expiry` for keys of this policy when set.
    public var keyIdleExpirySeconds: Double?

    public init(maxAttempts: Int = 5, baseDelaySeconds: Double = 1, maxDelaySeconds: Double = 300, keyIdleExpirySeconds: Double? = nil) {
        self.maxAttempts = maxAttempts
        self.baseDelaySeconds = baseDelaySeconds
        self.maxDelaySeconds = maxDelaySeconds
        self.keyIdleExpirySeconds = keyIdleExpirySeconds
    }

    /// The upper end of attempt `n`'s delay: min(max, base * 2^(n-1)).
    /// The delay itself is drawn from [0, ceiling) (full jitter), so retries
    /// of many runners do not move in lockstep.
    public func delayCeiling(attempt: Int) -> Double {
        let doublings = Double(max(0, min(attempt - 1, 62)))
        return min(maxDelaySeconds, baseDelaySeconds * pow2(doublings))
    }

    private func pow2(_ exponent: Double) -> Double {
        var value = 1.0
        var left = Int(exponent)
        while left > 0 {
            value *= 2
            left -= 1
            if value > 1e18 { break }
        }
        return value
    }
}

/// The host-wide retry budget, as in Envoy: retries in flight may not
/// exceed max(min_retry_concurrency, budget_percent of the active keys).
public struct RetryBudget: Sendable, Equatable {
    public var percent: Double
    public var minConcurrency: Int

    public init(percent: Double = 20, minConcurrency: Int = 3) {
        self.percent = percent
        self.minConcurrency = minConcurrency
    }

    public func limit(activeKeys: Int) -> Int {
        max(minConcurrency, Int((percent / 100 * Double(activeKeys)).rounded(.down)))
    }
}
