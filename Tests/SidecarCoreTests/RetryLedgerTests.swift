import Synchronization
import XCTest

@testable import SidecarCore

/// The ledger's rules with a fake clock (times passed in) and a scripted
/// jitter source: no sockets, files or time passing.
final class RetryLedgerTests: XCTestCase {
    /// Jitter draws, replayed in order (then repeated from the start).
    final class ScriptedRandom: Sendable {
        private let draws: [Double]
        private let next = Mutex(0)

        init(_ draws: [Double]) { self.draws = draws }

        func draw() -> Double {
            next.withLock { index in
                defer { index += 1 }
                return draws[index % draws.count]
            }
        }
    }

    private func ledger(
        policy: RetryPolicy = RetryPolicy(maxAttempts: 5, baseDelaySeconds: 1, maxDelaySeconds: 10),
        budget: RetryBudget = RetryBudget(percent: 100, minConcurrency: 1000), draws: [Double] = [0.5],
        expiry: Double = 86400
    ) -> RetryLedger {
        let random = ScriptedRandom(draws)
        return RetryLedger(
            policies: ["default": policy, "provision": RetryPolicy(maxAttempts: 3, baseDelaySeconds: 10, maxDelaySeconds: 120)],
            budget: budget, keyIdleExpirySeconds: expiry, classifier: ErrorClassifier(), random: { random.draw() })
    }

    private func grantedDelay(_ decision: RetryDecision) -> Double? {
        if case .granted(_, let delay, _) = decision { return delay }
        return nil
    }

    func testANewKeyPastMaxKeysIsRefusedAndKnownKeysGoOn() throws {
        var ledger = ledger()
        ledger.maxKeys = 3
        for key in ["a", "b", "c"] {
            _ = try ledger.reserve(key: key, policy: "", lastError: "timeout", exitCode: nil, now: 0)
        }
        XCTAssertThrowsError(try ledger.reserve(key: "d", policy: "", lastError: "timeout", exitCode: nil, now: 1)) { error in
            XCTAssertEqual(error as? RetryLedgerError, .full(maxKeys: 3))
        }
        XCTAssertNil(ledger.records["d"])
        guard case .granted(let attempt, _, _) = try ledger.reserve(key: "a", policy: "", lastError: "timeout", exitCode: nil, now: 2) else {
            return XCTFail("a known key is not refused")
        }
        XCTAssertEqual(attempt, 2)
    }

    func testDelaysGrowAndAreCapped() throws {
        // A draw just under 1 shows the ceiling of each attempt.
        var ledger = ledger(draws: [0.999999])
        let delays = try (1...5).map { _ in
            try XCTUnwrap(grantedDelay(try ledger.reserve(key: "k", policy: "", lastError: "timeout", exitCode: nil, now: 0)))
        }
        let ceilings = [1.0, 2, 4, 8, 10]
        for (delay, ceiling) in zip(delays, ceilings) {
            XCTAssertEqual(delay, ceiling, accuracy: 0.0001)
        }
        XCTAssertEqual(RetryPolicy(maxAttempts: 100, baseDelaySeconds: 1, maxDelaySeconds: 300).delayCeiling(attempt: 80), 300)
    }

    func testJitterStaysInRange() throws {
        var ledger = ledger(policy: RetryPolicy(maxAttempts: 1000, baseDelaySeconds: 2, maxDelaySeconds: 60), draws: [0, 0.25, 0.999])
        for attempt in 1...30 {
            let decision = try ledger.reserve(key: "k", policy: "", lastError: "timeout", exitCode: nil, now: 100)
            guard case .granted(let granted, let delay, let notBefore) = decision else { return XCTFail("\(decision)") }
            XCTAssertEqual(granted, attempt)
            let ceiling = RetryPolicy(maxAttempts: 1000, baseDelaySeconds: 2, maxDelaySeconds: 60).delayCeiling(attempt: attempt)
            XCTAssertGreaterThanOrEqual(delay, 0)
            XCTAssertLessThan(delay, ceiling)
            XCTAssertEqual(notBefore, 100 + delay, accuracy: 1e-9)
        }
    }

    func testTheCapIsExact() throws {
        var ledger = ledger()
        for attempt in 1...3 {
            let decision = try ledger.reserve(key: "provision:t", policy: "provision", lastError: "e\(attempt)", exitCode: nil, now: 0)
            guard case .granted(let granted, _, _) = decision else { return XCTFail("attempt \(attempt): \(decision)") }
            XCTAssertEqual(granted, attempt)
        }
        let fourth = try ledger.reserve(key: "provision:t", policy: "provision", lastError: "e4", exitCode: nil, now: 0)
        XCTAssertEqual(fourth, .exhausted(attempts: 3, firstError: "e1", lastError: "e4"))
        XCTAssertEqual(ledger.records["provision:t"]?.state, .exhausted)
        let fifth = try ledger.reserve(key: "provision:t", policy: "provision", lastError: "e5", exitCode: nil, now: 0)
        guard case .exhausted = fifth else { return XCTFail("stays exhausted: \(fifth)") }
    }

    func testPermanentErrorsAreDeniedAtTheFirstAttemptAndStayDenied() throws {
        var ledger = ledger()
        let first = try ledger.reserve(
            key: "provision:task-ebdf2deb", policy: "provision",
            lastError: #"Container image "optio-node:latest" is not present with pull policy of Never"#, exitCode: nil, now: 0)
        guard case .deniedPermanent(let category, let remedy) = first else { return XCTFail("\(first)") }
        XCTAssertEqual(category, "image_missing")
        // The request names no image, and the message is never read for one.
        XCTAssertTrue(remedy.contains("sidecarctl ensure-image with the image's name"), remedy)
        var named = self.ledger()
        let denied = try named.reserve(
            key: "provision:task-2", policy: "provision", lastError: "ErrImageNeverPull", exitCode: nil,
            image: "optio-node:latest", now: 0)
        guard case .deniedPermanent(_, let namedRemedy) = denied else { return XCTFail("\(denied)") }
        XCTAssertTrue(namedRemedy.contains("sidecarctl ensure-image optio-node:latest"), namedRemedy)
        XCTAssertEqual(ledger.records["provision:task-ebdf2deb"]?.attempts, 0)
        // Even a transient-looking error later is denied until reset.
        let later = try ledger.reserve(key: "provision:task-ebdf2deb", policy: "provision", lastError: "timeout", exitCode: nil, now: 5)
        XCTAssertEqual(later, first)
        XCTAssertTrue(ledger.reset(key: "provision:task-ebdf2deb"))
        XCTAssertNotNil(grantedDelay(try ledger.reserve(key: "provision:task-ebdf2deb", policy: "provision", lastError: "timeout", exitCode: nil, now: 6)))
    }

    /// Verdicts are remembered per failure (message, exit code, image) and
    /// forgotten when the classifier changes: a reload that makes an error
    /// permanent is heard by the very next reserve.
    func testRememberedVerdictsFollowTheClassifierAndTheImage() throws {
        var ledger = ledger()
        let message = "quota exceeded for project agents"
        XCTAssertNotNil(grantedDelay(try ledger.reserve(key: "a", policy: "", lastError: message, exitCode: nil, now: 0)))
        XCTAssertNotNil(grantedDelay(try ledger.reserve(key: "b", policy: "", lastError: message, exitCode: nil, now: 0)))
        ledger.classifier = ErrorClassifier(configRules: [
            ClassificationRule(name: "quota", substrings: ["quota exceeded"], category: "quota", permanent: true, remedy: "raise {image}'s quota"),
        ])
        let same = try ledger.reserve(key: "c0", policy: "", lastError: message, exitCode: nil, now: 0)
        XCTAssertEqual(same, .deniedPermanent(category: "quota", remedy: "raise the image's quota"))
        let denied = try ledger.reserve(key: "c", policy: "", lastError: message, exitCode: nil, image: "agent:1", now: 0)
        XCTAssertEqual(denied, .deniedPermanent(category: "quota", remedy: "raise agent:1's quota"))
        // The same message with another image is another failure.
        let other = try ledger.reserve(key: "d", policy: "", lastError: message, exitCode: nil, image: "agent:2", now: 0)
        XCTAssertEqual(other, .deniedPermanent(category: "quota", remedy: "raise agent:2's quota"))
        // Past the memo's size, every failure is still classified.
        for index in 0..<(VerdictMemo.limit + 10) {
            let decision = try ledger.reserve(key: "k\(index)", policy: "", lastError: "quota exceeded \(index)", exitCode: nil, now: 0)
            guard case .deniedPermanent = decision else { return XCTFail("\(index): \(decision)") }
        }
        let long = String(repeating: "x", count: VerdictMemo.longestMessageBytes) + " quota exceeded"
        guard case .deniedPermanent = try ledger.reserve(key: "long", policy: "", lastError: long, exitCode: nil, now: 0) else {
            return XCTFail("a message too long to remember is classified")
        }
    }

    /// The counters the budget reads move as records change state in place:
    /// a grant counts in flight, a permanent denial or a success stops it.
    func testTheBudgetCountersFollowEveryStateChange() throws {
        var ledger = ledger()
        _ = try ledger.reserve(key: "a", policy: "", lastError: "timeout", exitCode: nil, now: 0)
        _ = try ledger.reserve(key: "b", policy: "", lastError: "timeout", exitCode: nil, now: 0)
        XCTAssertEqual(ledger.retriesInFlight(), 2)
        XCTAssertEqual(ledger.activeKeyCount(), 2)
        _ = try ledger.reserve(key: "a", policy: "", lastError: "ErrImageNeverPull", exitCode: nil, now: 1)
        XCTAssertEqual(ledger.retriesInFlight(), 1, "a denied key is no longer in flight")
        XCTAssertEqual(ledger.activeKeyCount(), 1, "nor active")
        XCTAssertTrue(try ledger.complete(key: "b", success: true, error: "", now: 2))
        XCTAssertEqual(ledger.retriesInFlight(), 0)
        XCTAssertEqual(ledger.activeKeyCount(), 0)
        // A failure after a success starts a new episode: active and in flight again.
        _ = try ledger.reserve(key: "b", policy: "", lastError: "timeout", exitCode: nil, now: 3)
        XCTAssertEqual(ledger.records["b"]?.attempts, 1)
        XCTAssertEqual(ledger.retriesInFlight(), 1)
        XCTAssertEqual(ledger.activeKeyCount(), 1)
        _ = try ledger.reserve(key: "b", policy: "", lastError: "timeout", exitCode: nil, now: 4)
        XCTAssertEqual(ledger.retriesInFlight(), 1, "asking again replaces the open grant")
        XCTAssertEqual(ledger.activeKeyCount(), 1)
    }

    /// The daemon's jitter (no script): in [0, 1), and spread over it.
    func testSeededJitterIsSpreadOverTheUnitInterval() {
        var jitter = Jitter.seeded()
        let draws = (0..<10_000).map { _ in jitter.next() }
        XCTAssertTrue(draws.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(draws.reduce(0, +) / Double(draws.count), 0.5, accuracy: 0.02)
        for decile in 0..<10 {
            let inside = draws.filter { Int($0 * 10) == decile }.count
            XCTAssertEqual(Double(inside), 1000, accuracy: 150, "decile \(decile)")
        }
        var another = Jitter.seeded()
        XCTAssertNotEqual((0..<4).map { _ in another.next() }, Array(draws.prefix(4)), "each ledger is seeded apart")
    }

    func testExitCode125IsPermanent() throws {
        var ledger = ledger()
        let decision = try ledger.reserve(key: "spawn:1", policy: "", lastError: "", exitCode: 125, now: 0)
        guard case .deniedPermanent(let category, _) = decision else { return XCTFail("\(decision)") }
        XCTAssertEqual(category, "container_runtime")
    }

    func testTheBudgetThrottlesAndRecovers() throws {
        var ledger = ledger(budget: RetryBudget(percent: 20, minConcurrency: 3))
        var granted: [String] = []
        var throttled: [String] = []
        for index in 0..<200 {
            let key = "k\(index)"
            switch try ledger.reserve(key: key, policy: "", lastError: "timeout", exitCode: nil, now: 0) {
            case .granted: granted.append(key)
            case .throttled(let after):
                throttled.append(key)
                XCTAssertGreaterThan(after, 0)
            case let other: XCTFail("\(other)")
            }
        }
        XCTAssertEqual(granted.count, 40, "20% of 200 active keys")
        XCTAssertEqual(throttled.count, 160)
        XCTAssertEqual(ledger.retriesInFlight(), 40)
        // Finished attempts free the budget: successes also close their keys.
        for key in granted.prefix(10) {
            XCTAssertTrue(try ledger.complete(key: key, success: true, error: "", now: 1))
        }
        // 190 active keys allow 38 in flight; 30 are.
        var regranted = 0
        for key in throttled.prefix(20) {
            if case .granted = try ledger.reserve(key: key, policy: "", lastError: "timeout", exitCode: nil, now: 2) {
                regranted += 1
            }
        }
        XCTAssertEqual(regranted, 8)
    }

    func testTheMinimumConcurrencyAppliesToFewKeys() throws {
        var ledger = ledger(budget: RetryBudget(percent: 20, minConcurrency: 3))
        let answers = try (0..<5).map { try ledger.reserve(key: "k\($0)", policy: "", lastError: "x", exitCode: nil, now: 0) }
        XCTAssertEqual(answers.filter { grantedDelay($0) != nil }.count, 3)
    }

    func testAskingAgainEndsTheOpenGrantInsteadOfHoldingTwo() throws {
        var ledger = ledger(budget: RetryBudget(percent: 0, minConcurrency: 1))
        XCTAssertNotNil(grantedDelay(try ledger.reserve(key: "a", policy: "", lastError: "x", exitCode: nil, now: 0)))
        XCTAssertNotNil(grantedDelay(try ledger.reserve(key: "a", policy: "", lastError: "y", exitCode: nil, now: 1)))
        guard case .throttled = try ledger.reserve(key: "b", policy: "", lastError: "x", exitCode: nil, now: 2) else {
            return XCTFail("a's grant holds the one slot")
        }
    }

    func testKeysExpireWhenIdle() throws {
        var ledger = ledger(expiry: 3600)
        _ = try ledger.reserve(key: "old", policy: "", lastError: "x", exitCode: nil, now: 0)
        _ = try ledger.reserve(key: "fresh", policy: "", lastError: "x", exitCode: nil, now: 3000)
        XCTAssertEqual(ledger.expire(now: 3599), [])
        XCTAssertEqual(ledger.expire(now: 3600), ["old"])
        XCTAssertNil(ledger.records["old"])
        XCTAssertNotNil(ledger.records["fresh"])
        XCTAssertEqual(ledger.retriesInFlight(), 1, "the expired key's grant no longer counts")
    }

    func testStaleGrantsStopCountingAfterTheAttemptTimeout() throws {
        var ledger = ledger(budget: RetryBudget(percent: 0, minConcurrency: 1))
        ledger.attemptTimeoutSeconds = 60
        _ = try ledger.reserve(key: "a", policy: "", lastError: "x", exitCode: nil, now: 0)
        _ = ledger.expire(now: 61)
        XCTAssertNotNil(grantedDelay(try ledger.reserve(key: "b", policy: "", lastError: "x", exitCode: nil, now: 61)))
    }

    func testCompleteIsIdempotentAndUnknownKeysAreReported() throws {
        var ledger = ledger()
        _ = try ledger.reserve(key: "a", policy: "", lastError: "x", exitCode: nil, now: 0)
        XCTAssertTrue(try ledger.complete(key: "a", success: false, error: "boom", now: 1))
        XCTAssertFalse(try ledger.complete(key: "a", success: false, error: "boom", now: 2))
        XCTAssertEqual(ledger.records["a"]?.lastError, "boom")
        XCTAssertThrowsError(try ledger.complete(key: "nope", success: true, error: "", now: 0)) { error in
            XCTAssertEqual(error as? RetryLedgerError, .unknownKey("nope"))
        }
    }

    func testBadRequests() {
        var ledger = ledger()
        XCTAssertThrowsError(try ledger.reserve(key: "", policy: "", lastError: "x", exitCode: nil, now: 0)) {
            XCTAssertEqual($0 as? RetryLedgerError, .emptyKey)
        }
        XCTAssertThrowsError(try ledger.reserve(key: "k", policy: "nope", lastError: "x", exitCode: nil, now: 0)) {
            XCTAssertEqual($0 as? RetryLedgerError, .unknownPolicy("nope", known: ["default", "provision"]))
        }
    }

    func testRestoredRecordsKeepTheirCaps() throws {
        var first = ledger()
        for _ in 1...3 { _ = try first.reserve(key: "p", policy: "provision", lastError: "x", exitCode: nil, now: 0) }
        var second = ledger()
        second.restore(Array(first.records.values))
        guard case .exhausted(3, _, _) = try second.reserve(key: "p", policy: "provision", lastError: "x", exitCode: nil, now: 1) else {
            return XCTFail("a restart must not reset a cap")
        }
    }
}
