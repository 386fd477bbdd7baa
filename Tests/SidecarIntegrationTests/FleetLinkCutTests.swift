import Foundation
import SidecarClient
import SidecarCore
import SidecarTestSupport
import XCTest

/// Fleet mode when the network link to PostgreSQL is cut (packets dropped
/// in silence, no RST, no ICMP) rather than PostgreSQL stopped: only the
/// daemon's deadlines (the heartbeat answered within 1 s) can tell. Host A's
/// `sidecard` runs in a network namespace whose only way out is a veth link
/// to the root namespace, where PostgreSQL listens on the link's address;
/// host B's runs in the root namespace over 127.0.0.1, and never loses it.
final class FleetLinkCutTests: XCTestCase {
    private var namespace: NetworkNamespace!
    private var postgres: PostgresService!
    private var a: DaemonProcess?
    private var b: DaemonProcess?

    override func setUpWithError() throws {
        guard NetworkNamespace.isRoot else { throw XCTSkip("network namespaces need root") }
        guard PostgresService.isInstalled else { throw XCTSkip("PostgreSQL is not installed") }
        guard NetworkNamespace.isAvailable else { throw XCTSkip("ip netns does not work here") }
        namespace = try NetworkNamespace()
        postgres = try PostgresService(extraListenAddresses: [namespace.hostAddress])
    }

    override func tearDown() {
        // The daemon inside first: a process in the namespace keeps it alive.
        a = nil
        b = nil
        postgres = nil
        namespace = nil
    }

    private func config(host: String, postgres connection: String) -> String {
        DaemonProcess.baseConfig + """
            [retry]
            min_retry_concurrency = 2
            budget_percent = 0

            [retry.policy.linkcut]
            max_attempts = 5
            base_delay = "10ms"
            max_delay = "50ms"

            [fleet]
            postgres = "\(connection)"
            host_id = "\(host)"
            degraded_retry = "local"
            """
    }

    func testACutLinkDegradesThatHostAloneWhichAnswersLocallyAndMergesWhenTheLinkReturns() async throws {
        let a = try DaemonProcess(
            config: config(host: "a", postgres: postgres.connectionString(hostaddr: namespace.hostAddress)),
            commandPrefix: namespace.command([]))
        self.a = a
        let b = try DaemonProcess(config: config(host: "b", postgres: postgres.connectionString))
        self.b = b
        try waitForFleet(a.socketPath, toBe: "connected", seconds: 10, log: a.log)
        try waitForFleet(b.socketPath, toBe: "connected", seconds: 10, log: b.log)
        // A really is inside: its session to PostgreSQL comes from the namespace's address.
        XCTAssertEqual(
            try postgres.query("SELECT DISTINCT host(client_addr) FROM pg_stat_activity WHERE application_name = 'sidecard a'"),
            [[namespace.insideAddress]])

        let first = try await a.client().reserveRetrySlotAnswer(key: "k", lastError: "i/o timeout", policy: "linkcut")
        XCTAssertFalse(first.answeredLocally)
        XCTAssertEqual(first.decision.attempt, 1, "\(first.decision)")
        try await a.client().completeAttempt(key: "k", success: false, error: "i/o timeout")

        // The cut: A notices it by its deadlines alone, within 2 s (and the polling's slack).
        try namespace.cut()
        let cutAt = Date()
        let degradedAfter = try waitForFleet(a.socketPath, toBe: "degraded", seconds: 5, log: a.log)
        print("FleetLinkCutTests: A degraded \(String(format: "%.2f", degradedAfter)) s after the cut")
        XCTAssertLessThan(degradedAfter, 2.5, "degraded within 2 s of the cut")
        let reason = try fleetHealth(a.socketPath)?.reason ?? ""
        XCTAssertTrue(reason.contains("no answer"), "a silent link is noticed by a deadline, not by an error: \(reason)")
        XCTAssertEqual(try fleetHealth(b.socketPath)?.state, "connected", "B's link is not cut")

        // A decides alone, says so, and records the outcome.
        let local = try await a.client().reserveRetrySlotAnswer(key: "k", lastError: "i/o timeout", policy: "linkcut")
        XCTAssertTrue(local.answeredLocally)
        XCTAssertEqual(local.decision.attempt, 1, "A's own ledger knew nothing of the key: \(local.decision)")
        try await a.client().completeAttempt(key: "k", success: false, error: "i/o timeout")
        // B keeps its link over more than A took to lose its own.
        let stillCut = 2.5 - Date().timeIntervalSince(cutAt)
        if stillCut > 0 { usleep(UInt32(stillCut * 1_000_000)) }
        XCTAssertEqual(try fleetHealth(b.socketPath)?.state, "connected", "B's link is not cut")
        XCTAssertEqual(try fleetHealth(a.socketPath)?.state, "degraded", "the link is still cut")

        // The link returns: A is connected within 5 s and its local attempt
        // adds to the fleet's.
        try namespace.restore()
        let restoredAfter = try waitForFleet(a.socketPath, toBe: "connected", seconds: 10, log: a.log)
        print("FleetLinkCutTests: A connected \(String(format: "%.2f", restoredAfter)) s after the link's return")
        XCTAssertLessThan(restoredAfter, 5, "connected within 5 s of the link's return")
        let merged = try DaemonProcess.eventually(timeout: 5) {
            try self.postgres.query("SELECT attempts FROM sidecar_retry_keys WHERE key = 'k'") == [["2"]]
        }
        let rows = try postgres.query("SELECT key, state, attempts FROM sidecar_retry_keys ORDER BY key")
        XCTAssertTrue(merged, "the fleet's 1 and A's local 1 add up: \(rows)")
        let next = try await b.client().reserveRetrySlotAnswer(key: "k", lastError: "i/o timeout", policy: "linkcut")
        XCTAssertFalse(next.answeredLocally)
        XCTAssertEqual(next.decision.attempt, 3, "\(next.decision)")
        XCTAssertEqual(try fleetHealth(b.socketPath)?.state, "connected")
    }

    /// `sidecarctl --json health`'s "fleet" object: its state and reason.
    private func fleetHealth(_ socketPath: String) throws -> (state: String, reason: String)? {
        let result = try CommandResult.sidecarctl(["--json", "health", "--socket", socketPath])
        guard let data = result.stdout.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let fleet = object["fleet"] as? [String: Any], let state = fleet["state"] as? String
        else { return nil }
        return (state, fleet["reason"] as? String ?? "")
    }

    /// Polls the daemon's fleet state until it is `state`: the seconds that took.
    @discardableResult
    private func waitForFleet(_ socketPath: String, toBe state: String, seconds: Double, log: @autoclosure () -> String) throws -> Double {
        let started = Date()
        let deadline = started.addingTimeInterval(seconds)
        var last = ""
        while Date() < deadline {
            if let seen = try fleetHealth(socketPath)?.state {
                last = seen
                if seen == state { return Date().timeIntervalSince(started) }
            }
            usleep(20_000)
        }
        XCTFail("fleet state \(last), not \(state), after \(seconds) s; log:\n\(log())")
        return seconds
    }
}
