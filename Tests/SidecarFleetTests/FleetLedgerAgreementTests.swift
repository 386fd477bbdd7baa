import SidecarCore
import SidecarFleet
import SidecarLoop
import SidecarPostgres
import SidecarTestSupport
import XCTest

/// The fleet's ledger applies `RetryLedger`'s rules in SQL: one scripted
/// sequence run through the pure core and through a real PostgreSQL must
/// get the same answer at every step (grants with their delays, denials,
/// exhaustion, the budget's throttling, success and new episodes, resets,
/// owners, the key cap).
final class FleetLedgerAgreementTests: XCTestCase {
    enum Step {
        case reserve(String, error: String, exitCode: Int32? = nil, caller: Caller = .daemon)
        case complete(String, success: Bool, error: String = "", caller: Caller = .daemon)
        case reset(String)
    }

    static let owner = Caller(uid: 1000, groups: [1000], isAdmin: false)
    static let stranger = Caller(uid: 1001, groups: [1001], isAdmin: false)

    static let script: [Step] = [
        .reserve("a", error: "connection reset by peer"),
        .reserve("a", error: "connection reset by peer"),
        .reserve("b", error: "i/o timeout"),
        // Two grants in flight, the budget's floor: throttled.
        .reserve("c", error: "i/o timeout"),
        .complete("b", success: false, error: "i/o timeout again"),
        .reserve("c", error: "i/o timeout"),
        .reserve("a", error: "503 Service Unavailable"),
        .complete("a", success: false, error: "503"),
        .complete("c", success: false),
        // Past max_attempts = 3.
        .reserve("a", error: "503 Service Unavailable"),
        .reserve("a", error: ""),
        .reserve("d", error: "Container image \"x\" is not present with pull policy of Never (ErrImageNeverPull)"),
        .reserve("d", error: "connection reset by peer"),
        .reserve("c", error: "timeout"),
        .complete("c", success: true),
        .complete("c", success: true),
        // A failure after a success: a new episode.
        .reserve("c", error: "timeout"),
        .complete("c", success: false, error: "timeout"),
        .reset("a"),
        .reset("never-seen"),
        .reserve("a", error: "timeout"),
        .complete("never-seen", success: true),
        .reserve("e", error: "timeout", caller: owner),
        .reserve("e", error: "timeout", caller: stranger),
        .complete("e", success: false, error: "x", caller: stranger),
        .complete("e", success: false, error: "x", caller: owner),
        .reserve("e", error: "timeout", caller: owner),
        // Five keys now; the cap is six.
        .reserve("f", error: "timeout"),
        .reserve("g", error: "timeout"),
        .reset("f"),
        .reserve("g", error: "timeout"),
    ]

    static let policy = RetryPolicy(maxAttempts: 3, baseDelaySeconds: 2, maxDelaySeconds: 5)
    static let budget = RetryBudget(percent: 0, minConcurrency: 2)
    static let maxKeys = 6

    /// One answer, the same shape from both ledgers.
    enum Outcome: Equatable {
        case decision(RetryDecision)
        case changed(Bool)
        case refused(RetryLedgerError)
    }

    func testOneScriptedSequenceGetsTheSameAnswersFromTheCoreAndFromPostgreSQL() throws {
        guard PostgresService.isInstalled else { throw XCTSkip("PostgreSQL is not installed") }
        let postgres = try PostgresService()
        let jitters = (0..<Self.script.count).map { Double($0 % 7) / 7 }

        let core = runThroughTheCore(jitters: jitters)
        let fleet = try runThroughPostgreSQL(postgres, jitters: jitters)

        XCTAssertEqual(fleet.count, Self.script.count, "every step answered")
        for (index, step) in Self.script.enumerated() where index < fleet.count {
            XCTAssertEqual(fleet[index], core[index], "step \(index): \(step)")
        }
        // The script reaches every kind of answer, so agreement means something.
        let kinds = Set(core.map { outcome -> String in
            switch outcome {
            case .decision(.granted): "granted"
            case .decision(.throttled): "throttled"
            case .decision(.exhausted): "exhausted"
            case .decision(.deniedPermanent): "denied"
            case .changed(let changed): "changed \(changed)"
            case .refused(.full): "full"
            case .refused(.notOwner): "not owner"
            case .refused(.unknownKey): "unknown"
            case .refused: "other refusal"
            }
        })
        XCTAssertEqual(kinds, ["granted", "throttled", "exhausted", "denied", "changed true", "changed false", "full", "not owner", "unknown"])
        // The counts the budget reads agree with the rows.
        let counted = try postgres.query("SELECT sum(keys), sum(active) FROM sidecar_retry_counts")
        let actual = try postgres.query("SELECT count(*), count(*) FILTER (WHERE state = 'active') FROM sidecar_retry_keys")
        XCTAssertEqual(counted, actual)
    }

    private func runThroughTheCore(jitters: [Double]) -> [Outcome] {
        let draws = JitterQueue(jitters)
        var ledger = RetryLedger(
            policies: ["default": Self.policy], budget: Self.budget, keyIdleExpirySeconds: 86400, maxKeys: Self.maxKeys,
            classifier: ErrorClassifier(), random: { draws.next() })
        var outcomes: [Outcome] = []
        for (index, step) in Self.script.enumerated() {
            let now = 1000 + Double(index)
            draws.position = index
            do {
                switch step {
                case .reserve(let key, let error, let exitCode, let caller):
                    outcomes.append(.decision(try ledger.reserve(
                        key: key, policy: "", lastError: error, exitCode: exitCode, now: now, caller: caller)))
                case .complete(let key, let success, let error, let caller):
                    outcomes.append(.changed(try ledger.complete(key: key, success: success, error: error, now: now, caller: caller)))
                case .reset(let key):
                    outcomes.append(.changed(ledger.reset(key: key)))
                }
            } catch {
                outcomes.append(.refused(error))
            }
        }
        return outcomes
    }

    private func runThroughPostgreSQL(_ postgres: PostgresService, jitters: [Double]) throws -> [Outcome] {
        let loop = try EventLoop()
        let parameters = try FleetLink.connectionParameters(
            postgres.connectionString, password: nil, hostID: "agreement", statementTimeoutMilliseconds: 5000)
        let link = try FleetLink(loop: loop, parameters: parameters, connectTimeoutMilliseconds: 5000)
        let ledger = FleetRetryLedger(
            connection: link.connection,
            settings: .init(hostID: "agreement", budget: Self.budget, maxKeys: Self.maxKeys, attemptTimeoutSeconds: 900,
                            timeoutMilliseconds: 5000))
        let classifier = ErrorClassifier()
        var outcomes: [Outcome] = []
        var failure: String?

        func run(_ index: Int) {
            guard index < Self.script.count else { return link.close() }
            let now = 1000 + Double(index)
            let next = { (outcome: Outcome) in
                outcomes.append(outcome)
                run(index + 1)
            }
            func outcome<Value>(_ result: Result<Value, FleetRetryLedger.Failure>, _ make: (Value) -> Outcome) {
                switch result {
                case .success(let value): next(make(value))
                case .failure(.rule(let refusal)): next(.refused(refusal))
                case .failure(.unavailable(let reason)):
                    failure = "step \(index): \(reason)"
                    link.close()
                }
            }
            switch Self.script[index] {
            case .reserve(let key, let error, let exitCode, let caller):
                let verdict = classifier.classify(FailureReport(message: error, exitCode: exitCode, image: nil))
                ledger.reserve(
                    key: key, policyName: "default", policy: Self.policy, lastError: error, verdict: verdict,
                    jitter: jitters[index], now: now, caller: caller
                ) { outcome($0) { .decision($0) } }
            case .complete(let key, let success, let error, let caller):
                ledger.complete(key: key, success: success, error: error, now: now, caller: caller) { outcome($0) { .changed($0) } }
            case .reset(let key):
                ledger.reset(key: key) { outcome($0) { .changed($0) } }
            }
            ledger.flush()
        }
        link.onRestored = { run(0) }
        link.onDegraded = { reason in
            failure = "PostgreSQL unreachable: \(reason)"
            link.close()
        }
        link.start()
        loop.run()
        loop.close()
        if let failure { XCTFail(failure) }
        return outcomes
    }
}

/// The core's jitter source, set to the step's draw before each call.
private final class JitterQueue: @unchecked Sendable {
    private let values: [Double]
    var position = 0

    init(_ values: [Double]) { self.values = values }

    func next() -> Double { values[position] }
}
