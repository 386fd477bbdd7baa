import Foundation
import SidecarClient
import SidecarCore
import SidecarTestSupport
import SidecarWire
import XCTest

/// Fleet mode's shared retry ledger: three real `sidecard`s (their own
/// state dirs and sockets) on one real PostgreSQL. Hosts "a" and "b" run
/// in network namespaces of their own and reach it over veth links (as
/// root, where `ip netns` works); "c" runs beside the test and names the
/// server `localhost`, which the daemon looks up off the loop, handing
/// libpq every address (::1 is refused here, 127.0.0.1 answers).
final class FleetLedgerTests: XCTestCase {
    private var postgres: PostgresService!
    private var namespaces: [String: NetworkNamespace] = [:]
    /// Kept until tearDown: a daemon inside a namespace keeps it alive.
    private var started: [DaemonProcess] = []

    override func setUpWithError() throws {
        guard PostgresService.isInstalled else { throw XCTSkip("PostgreSQL is not installed") }
        if NetworkNamespace.isAvailable {
            for name in ["a", "b"] { namespaces[name] = try NetworkNamespace() }
        }
        postgres = try PostgresService(extraListenAddresses: namespaces.values.map(\.hostAddress).sorted())
    }

    override func tearDown() {
        started = []
        postgres = nil
        namespaces = [:]
    }

    private func config(host: String, degraded: String = "local", extra: String = "") -> String {
        let server = namespaces[host].map { postgres.connectionString(hostaddr: $0.hostAddress) }
            ?? (host == "c" ? postgres.connectionString.replacingOccurrences(of: "host=127.0.0.1", with: "host=localhost")
                : postgres.connectionString)
        return configText(host: host, server: server, degraded: degraded, extra: extra)
    }

    private func configText(host: String, server: String, degraded: String, extra: String) -> String {
        DaemonProcess.baseConfig + """
            [retry]
            min_retry_concurrency = 2
            budget_percent = 0

            [retry.policy.provision]
            max_attempts = 3
            base_delay = "10ms"
            max_delay = "50ms"

            [fleet]
            postgres = "\(server)"
            host_id = "\(host)"
            degraded_retry = "\(degraded)"

            \(extra)
            """
    }

    private func host(_ name: String, degraded: String = "local", directory: String? = nil) throws -> DaemonProcess {
        let daemon = try DaemonProcess(
            config: config(host: name, degraded: degraded), directory: directory,
            commandPrefix: namespaces[name].map { $0.command([]) } ?? [])
        started.append(daemon)
        try waitForFleet(daemon, toBe: "connected")
        return daemon
    }

    @discardableResult
    private func waitForFleet(_ daemon: DaemonProcess, toBe state: String, seconds: Double = 10) throws -> Double {
        let started = Date()
        let deadline = started.addingTimeInterval(seconds)
        var last = ""
        while Date() < deadline {
            let result = try CommandResult.sidecarctl(["--json", "health", "--socket", daemon.socketPath])
            if let data = result.stdout.data(using: .utf8),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let fleet = object["fleet"] as? [String: Any], let seen = fleet["state"] as? String {
                last = seen
                if seen == state { return Date().timeIntervalSince(started) }
            }
            usleep(100_000)
        }
        XCTFail("fleet state \(last), not \(state), after \(seconds) s; log:\n\(daemon.log)")
        return seconds
    }

    func testOneKeyCountsItsAttemptsAcrossThreeHostsAndSurvivesTheirRestarts() async throws {
        let a = try host("a"), b = try host("b"), c = try host("c")
        var attempts: [RetryDecision] = []
        for daemon in [a, b, c] {
            attempts.append(try await daemon.client().reserveRetrySlot(key: "provision:42", lastError: "i/o timeout", policy: "provision"))
            try await daemon.client().completeAttempt(key: "provision:42", success: false, error: "i/o timeout")
        }
        XCTAssertEqual(attempts.map(\.attempt), [1, 2, 3], "\(attempts)")
        let fourth = try await a.client().reserveRetrySlot(key: "provision:42", lastError: "i/o timeout", policy: "provision")
        guard case .exhausted(3, "i/o timeout", "i/o timeout") = fourth else { return XCTFail("\(fourth)") }

        // A permanent error told on A denies B's transient one, with A's remedy.
        let never = "Failed to pull image \"agent:7\": ErrImageNeverPull: Container image \"agent:7\" is not present with pull policy of Never"
        let onA = try await a.client().reserveRetrySlot(key: "pod:7", lastError: never, image: "agent:7")
        guard case .deniedPermanent(let category, let remedy) = onA else { return XCTFail("\(onA)") }
        let onB = try await b.client().reserveRetrySlot(key: "pod:7", lastError: "connection reset by peer")
        XCTAssertEqual(onB, .deniedPermanent(category: category, remedy: remedy))

        // A reset on C starts the key afresh for B.
        let reset = try CommandResult.sidecarctl(["retry", "reset", "pod:7", "--socket", c.socketPath])
        XCTAssertEqual(reset.status, 0, reset.stderr)
        let afresh = try await b.client().reserveRetrySlot(key: "pod:7", lastError: "connection reset by peer")
        XCTAssertEqual(afresh.attempt, 1, "\(afresh)")

        // Every host lists the same keys, whoever made them.
        let listedOnC = try await c.client().listRetries().map(\.key)
        XCTAssertEqual(listedOnC, ["pod:7", "provision:42"])

        // Restarts (kill -9) change nothing: the ledger is the fleet's.
        a.stop(); b.stop(); c.stop()
        let b2 = try host("b", directory: b.directory)
        let again = try await b2.client().reserveRetrySlot(key: "provision:42", lastError: "i/o timeout", policy: "provision")
        guard case .exhausted(3, _, _) = again else { return XCTFail("\(again)") }
        let rows = try postgres.query("SELECT key, state, attempts FROM sidecar_retry_keys ORDER BY key")
        XCTAssertEqual(rows, [["pod:7", "active", "1"], ["provision:42", "exhausted", "3"]])
    }

    func testTheBudgetIsTheFleetsNotEachHosts() async throws {
        // Two grants in flight anywhere in the fleet fill its budget
        // (min_retry_concurrency = 2, budget_percent = 0).
        let a = try host("a"), b = try host("b"), c = try host("c")
        let first = try await a.client().reserveRetrySlot(key: "job:1", lastError: "i/o timeout")
        let second = try await b.client().reserveRetrySlot(key: "job:2", lastError: "i/o timeout")
        XCTAssertEqual([first.attempt, second.attempt], [1, 1])
        let third = try await c.client().reserveRetrySlot(key: "job:3", lastError: "i/o timeout")
        guard case .throttled = third else { return XCTFail("C's own budget would grant it; the fleet's must not: \(third)") }
        // One outcome reported anywhere frees a slot everywhere.
        try await a.client().completeAttempt(key: "job:1", success: true)
        let retried = try await c.client().reserveRetrySlot(key: "job:3", lastError: "i/o timeout")
        XCTAssertEqual(retried.attempt, 1, "\(retried)")
    }

    func testAStoppedPostgreSQLDegradesEveryHostWhichKeepsAnsweringAndMergesOnReturn() async throws {
        let a = try host("a"), b = try host("b", degraded: "throttle")
        let before = try await a.client().reserveRetrySlot(key: "shared", lastError: "i/o timeout", policy: "provision")
        XCTAssertEqual(before.attempt, 1)
        try await a.client().completeAttempt(key: "shared", success: false, error: "i/o timeout")

        try postgres.stop(immediate: true)
        let secondsA = try waitForFleet(a, toBe: "degraded", seconds: 5)
        let secondsB = try waitForFleet(b, toBe: "degraded", seconds: 5)
        XCTAssertLessThan(max(secondsA, secondsB), 3, "degraded within 2 s (and the polling's slack)")

        // "local": A decides alone, says so, and keeps it durable.
        let local = try await a.client().reserveRetrySlotAnswer(key: "shared", lastError: "i/o timeout", policy: "provision")
        XCTAssertTrue(local.answeredLocally)
        XCTAssertEqual(local.decision.attempt, 1, "this host's ledger knew nothing of the key: \(local.decision)")
        let onlyLocal = try await a.client().reserveRetrySlotAnswer(key: "new-while-down", lastError: "i/o timeout")
        XCTAssertTrue(onlyLocal.answeredLocally)
        // "throttle": B refuses to decide alone.
        let throttled = try await b.client().reserveRetrySlotAnswer(key: "shared", lastError: "i/o timeout", policy: "provision")
        XCTAssertTrue(throttled.answeredLocally)
        guard case .throttled = throttled.decision else { return XCTFail("\(throttled.decision)") }
        let health = try await a.client().health()
        XCTAssertEqual(health.fleet?.state, "degraded")
        XCTAssertFalse(health.fleet?.reason.isEmpty ?? true)
        let metrics = try await a.client().metrics()
        XCTAssertTrue(metrics.contains("sidecar_fleet_connected 0"), metrics)

        // Back: within 5 s of PostgreSQL's return, and what A granted alone
        // adds to the fleet's count.
        try postgres.start()
        let restartedAt = Date()
        try waitForFleet(a, toBe: "connected", seconds: 10)
        try waitForFleet(b, toBe: "connected", seconds: 10)
        XCTAssertLessThan(Date().timeIntervalSince(restartedAt), 5)
        XCTAssertTrue(try DaemonProcess.eventually(timeout: 5) {
            try self.postgres.query("SELECT attempts FROM sidecar_retry_keys WHERE key = 'shared'") == [["2"]]
        }, "the fleet's 1 and A's local 1 add up")
        XCTAssertEqual(try postgres.query("SELECT attempts FROM sidecar_retry_keys WHERE key = 'new-while-down'"), [["1"]])
        let next = try await b.client().reserveRetrySlotAnswer(key: "shared", lastError: "i/o timeout", policy: "provision")
        XCTAssertFalse(next.answeredLocally)
        XCTAssertEqual(next.decision.attempt, 3, "\(next.decision)")
        XCTAssertTrue(a.log.contains("fleet.degraded") || a.log.contains("PostgreSQL unreachable"), a.log)
    }
}

extension RetryDecision {
    /// The attempt a grant gives; 0 for any other answer.
    var attempt: Int {
        if case .granted(let attempt, _, _) = self { return attempt }
        return 0
    }
}
