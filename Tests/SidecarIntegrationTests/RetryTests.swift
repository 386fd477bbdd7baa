import Foundation
import SidecarClient
import SidecarCore
import SidecarWire
import XCTest

/// The retry ledger on the real daemon: classification, caps, the budget
/// under concurrency, and durability across `kill -9`.
final class RetryTests: XCTestCase {
    static let provisionPolicy = """
        [retry.policy.provision]
        max_attempts = 3
        base_delay = "10ms"
        max_delay = "50ms"

        """

    func testThePoliciesAreListedAsConfigured() async throws {
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + Self.provisionPolicy)
        defer { daemon.stop() }
        let policies = try await daemon.client().listPolicies()
        XCTAssertEqual(policies.map(\.name), ["default", "provision"])
        XCTAssertEqual(policies.last?.policy, RetryPolicy(maxAttempts: 3, baseDelaySeconds: 0.01, maxDelaySeconds: 0.05))
        XCTAssertEqual(policies.first?.policy, RetryPolicy())

        let cli = try CommandResult.sidecarctl(["retry", "policies", "--socket", daemon.socketPath])
        XCTAssertEqual(cli.status, 0, cli.stderr)
        XCTAssertTrue(cli.stdout.split(separator: "\n").contains { $0.split(separator: " ") == ["provision", "3", "10ms", "50ms"] }, cli.stdout)
        let json = try CommandResult.sidecarctl(["--json", "retry", "policies", "--socket", daemon.socketPath])
        XCTAssertTrue(json.stdout.contains("\"name\":\"provision\""), json.stdout)

        // Tables: columns as wide as their content, a multi-line error cut to its first line.
        _ = try await daemon.client().reserveRetrySlot(key: "a-rather-long-key:42", lastError: "connection reset\n  at line 2\n  at line 3")
        _ = try await daemon.client().reserveRetrySlot(key: "k", lastError: "timeout")
        let list = try CommandResult.sidecarctl(["retry", "list", "--socket", daemon.socketPath])
        let lines = list.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, list.stdout)
        let stateColumn = try XCTUnwrap(lines[0].range(of: "STATE")).lowerBound.utf16Offset(in: lines[0])
        for line in lines.dropFirst() {
            XCTAssertEqual(try XCTUnwrap(line.range(of: "active")).lowerBound.utf16Offset(in: line), stateColumn, list.stdout)
        }
        XCTAssertTrue(lines.contains { $0.hasSuffix("connection reset…") }, list.stdout)
        let whole = try CommandResult.sidecarctl(["--json", "retry", "list", "--socket", daemon.socketPath])
        XCTAssertTrue(whole.stdout.contains("at line 3"), "--json keeps the whole text: \(whole.stdout)")
    }

    /// The state a client can make the daemon hold is bounded: past
    /// retry.max_keys and leases.max, new keys and leases are refused with
    /// RESOURCE_EXHAUSTED (and counted), while known ones carry on.
    func testRetryKeysAndLeasesAreBounded() async throws {
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + "[retry]\nmax_keys = 5\n[leases]\nmax = 2\n")
        defer { daemon.stop() }
        let client = daemon.client()
        for index in 0..<5 {
            _ = try await client.reserveRetrySlot(key: "key-\(index)", lastError: "connection reset")
        }
        do {
            _ = try await client.reserveRetrySlot(key: "key-5", lastError: "connection reset")
            XCTFail("a sixth key is over retry.max_keys")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .resourceExhausted)
            XCTAssertTrue(error.message.contains("retry.max_keys"), error.message)
        }
        let again = try await client.reserveRetrySlot(key: "key-0", lastError: "connection reset")
        guard case .granted = again else { return XCTFail("\(again)") }

        _ = try await client.acquireLease(target: "agent", holder: "a", ttlSeconds: 60)
        _ = try await client.acquireLease(target: "agent", holder: "b", ttlSeconds: 60)
        do {
            _ = try await client.acquireLease(target: "agent", holder: "c", ttlSeconds: 60)
            XCTFail("a third lease is over leases.max")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .resourceExhausted)
        }
        let metrics = try await client.metrics()
        XCTAssertTrue(metrics.contains("sidecar_state_full_total{what=\"retry_keys\"} 1"), metrics)
        XCTAssertTrue(metrics.contains("sidecar_state_full_total{what=\"leases\"} 1"), metrics)
        // Counted on the side and added when the metrics are read: six
        // decisions (the budget throttles two), each committed alone.
        XCTAssertTrue(metrics.contains("sidecar_retry_decisions_total{decision=\"granted\"} 4\n"), metrics)
        XCTAssertTrue(metrics.contains("sidecar_retry_decisions_total{decision=\"throttled\"} 2\n"), metrics)
        XCTAssertTrue(metrics.contains("sidecar_retry_commits_total{result=\"ok\"} 6\n"), metrics)
    }

    /// Keys (and errors) that differ only past a NUL or in an invalid UTF-8
    /// byte are refused, not merged into one record.
    func testKeysWithNULOrInvalidUTF8AreRefused() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let connection = try RawConnection.greeted(socketPath: daemon.socketPath)
        func reserve(key: [UInt8], error: [UInt8]) throws -> ServerFrame {
            // ReserveRetrySlotRequest: key = 1, last_error = 3.
            let payload = [0x0A, UInt8(key.count)] + key + [0x1A, UInt8(error.count)] + error
            connection.send(.call(id: 1, method: "ReserveRetrySlot", payload: payload))
            return try connection.readFrame()
        }
        for key in [Array("alias\u{0}A".utf8), Array("alias\u{0}B".utf8), [0x75, 0xFF], [0x75, 0xFE]] {
            let answer = try reserve(key: key, error: Array("connection reset".utf8))
            XCTAssertEqual(answer.statusCode, .invalidArgument, "\(key)")
            XCTAssertTrue(answer.statusMessage.contains("key"), answer.statusMessage)
        }
        let hidden = try reserve(key: Array("plain".utf8), error: Array("x\u{0}ErrImageNeverPull".utf8))
        XCTAssertEqual(hidden.statusCode, .invalidArgument, "an error whose classification hides past a NUL")
        let listed = try CommandResult.sidecarctl(["--socket", daemon.socketPath, "--json", "retry", "list"])
        XCTAssertEqual(listed.stdout.trimmingCharacters(in: .whitespacesAndNewlines), #"{"retries":[]}"#, "no record was made")
    }

    func testAPermanentErrorIsDeniedWithItsRemedy() async throws {
        let daemon = try DaemonProcess()
        let client = daemon.client()
        let events = client.watch(topics: ["retry."], timeout: .seconds(10))
        let firstEvent = Task { () -> SidecarEvent? in
            do {
                for try await event in events { return event }
            } catch {}
            return nil
        }
        let watching = try await waitUntil { try await client.metrics().contains("sidecar_watchers 1") }
        XCTAssertTrue(watching)
        let decision = try await client.reserveRetrySlot(
            key: "provision:task-ebdf2deb",
            lastError: #"Failed to pull image "optio-node:latest": ErrImageNeverPull"#, image: "optio-node:latest")
        guard case .deniedPermanent(let category, let remedy) = decision else { return XCTFail("\(decision)") }
        XCTAssertEqual(category, "image_missing")
        XCTAssertTrue(remedy.contains("sidecarctl ensure-image optio-node:latest"), remedy)
        let event = await value(of: firstEvent, within: 10)
        XCTAssertEqual(event?.topic, "retry.denied")
        XCTAssertEqual(event?.subject, "provision:task-ebdf2deb")
        XCTAssertEqual(event?.attributes["category"], "image_missing")
        // Every later reserve is denied at once, until reset.
        let again = try await client.reserveRetrySlot(key: "provision:task-ebdf2deb", lastError: "timeout")
        XCTAssertEqual(again, decision)

        let cli = try CommandResult.sidecarctl([
            "retry", "reserve", "provision:task-ebdf2deb", "--socket", daemon.socketPath, "--error", "timeout",
        ])
        XCTAssertEqual(cli.status, 1)
        XCTAssertTrue(cli.stdout.contains("remedy: optio-node:latest is not on this host"), cli.stdout)
    }

    func testThreeTransientFailuresThenExhaustedOnTheProvisionPolicy() async throws {
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + Self.provisionPolicy)
        let client = daemon.client()
        for attempt in 1...3 {
            let decision = try await client.reserveRetrySlot(key: "provision:t1", lastError: "connection reset by peer (\(attempt))", policy: "provision")
            guard case .granted(let granted, let delay, _) = decision else { return XCTFail("attempt \(attempt): \(decision)") }
            XCTAssertEqual(granted, attempt)
            XCTAssertLessThan(delay, 0.05)
            try await client.completeAttempt(key: "provision:t1", success: false, error: "still failing (\(attempt))")
        }
        let fourth = try await client.reserveRetrySlot(key: "provision:t1", lastError: "connection reset by peer (4)", policy: "provision")
        XCTAssertEqual(fourth, .exhausted(attempts: 3, firstError: "connection reset by peer (1)", lastError: "connection reset by peer (4)"))
        let listed = try await client.listRetries(state: "exhausted")
        XCTAssertEqual(listed.map(\.key), ["provision:t1"])

        // The default policy is separate: the same kind of error elsewhere is granted.
        let other = try await client.reserveRetrySlot(key: "build:x", lastError: "connection reset by peer")
        guard case .granted = other else { return XCTFail("\(other)") }

        let cli = try CommandResult.sidecarctl([
            "retry", "reserve", "provision:t2", "--socket", daemon.socketPath, "--policy", "provision", "--error", "timeout",
        ])
        XCTAssertEqual(cli.status, 0, cli.stderr)
        let delay = try XCTUnwrap(Double(cli.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "stdout is the delay alone: \(cli.stdout)")
        XCTAssertLessThan(delay, 0.05)
    }

    func testTwoHundredKeysFromTwentyConnectionsRespectTheBudget() async throws {
        let daemon = try DaemonProcess()  // budget: 20%, at least 3
        let clients = (0..<20).map { _ in daemon.client() }
        let decisions = try await withThrowingTaskGroup(of: (String, RetryDecision).self) { group in
            for (index, client) in clients.enumerated() {
                for key in 0..<10 {
                    group.addTask {
                        let name = "job:\(index)-\(key)"
                        return (name, try await client.reserveRetrySlot(key: name, lastError: "connection reset"))
                    }
                }
            }
            var all: [(String, RetryDecision)] = []
            for try await decision in group { all.append(decision) }
            return all
        }
        let granted = decisions.filter { if case .granted = $0.1 { return true } else { return false } }.map(\.0)
        let throttled = decisions.filter { if case .throttled = $0.1 { return true } else { return false } }.map(\.0)
        XCTAssertEqual(decisions.count, 200)
        XCTAssertEqual(granted.count, 40, "at most 20% of 200 active keys in flight")
        XCTAssertEqual(throttled.count, 160)
        let health = try await clients[0].health()
        XCTAssertEqual(health.connections, 20)
        let inFlight = try await clients[0].listRetries(keyPrefix: "job:").filter { $0.inFlightSince != nil }
        XCTAssertEqual(inFlight.count, 40)

        // The budget recovers as attempts finish: 40 successes leave 160
        // active keys, so 32 may be in flight.
        for key in granted { try await clients[1].completeAttempt(key: key, success: true) }
        var regranted = 0
        for key in throttled.prefix(40) {
            if case .granted = try await clients[2].reserveRetrySlot(key: key, lastError: "connection reset") { regranted += 1 }
        }
        XCTAssertEqual(regranted, 32)
        let cli = try CommandResult.sidecarctl(["retry", "reserve", throttled.last!, "--socket", daemon.socketPath, "--error", "x"])
        XCTAssertEqual(cli.status, 75, "throttled: \(cli.stdout) \(cli.stderr)")
    }

    func testNoAnsweredGrantIsLostToKillDashNine() async throws {
        let config = DaemonProcess.baseConfig + """
            [retry]
            budget_percent = 100
            min_retry_concurrency = 1000
            [retry.policy.default]
            max_attempts = 1000000
            base_delay = "0"
            max_delay = "0"

            """
        let daemon = try DaemonProcess(config: config)
        let received = ReceivedGrants()
        let socket = daemon.socketPath
        let streams = (0..<4).map { index in
            Task {
                let client = SidecarClient(socketPath: socket)
                while !Task.isCancelled {
                    guard case .granted(let attempt, _, _) = try await client.reserveRetrySlot(
                        key: "stream:\(index)", lastError: "connection reset")
                    else { continue }
                    await received.record(key: "stream:\(index)", attempt: attempt)
                }
            }
        }
        let enough = try await waitUntil(timeout: 10) { await received.total >= 400 }
        XCTAssertTrue(enough)
        daemon.signal(SIGKILL)
        XCTAssertNotNil(daemon.waitForExit())
        for stream in streams { _ = await stream.result }
        let before = await received.highest

        let restarted = try DaemonProcess(config: config, directory: daemon.directory)
        let records = try await restarted.client().listRetries(keyPrefix: "stream:")
        let attempts = Dictionary(uniqueKeysWithValues: records.map { ($0.key, $0.attempts) })
        XCTAssertEqual(Set(attempts.keys), Set(before.keys))
        for (key, highest) in before {
            XCTAssertGreaterThanOrEqual(attempts[key] ?? 0, highest, "\(key): a grant the client saw was lost")
        }
        // And counting goes on from there.
        let next = try await restarted.client().reserveRetrySlot(key: "stream:0", lastError: "connection reset")
        guard case .granted(let attempt, _, _) = next else { return XCTFail("\(next)") }
        XCTAssertEqual(attempt, (attempts["stream:0"] ?? 0) + 1)
    }

    func testCompleteAndResetNeedAKnownKeyAndResetNeedsAnAdmin() async throws {
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + "admin_uids = [4242]\n")
        let client = daemon.client()
        do {
            try await client.completeAttempt(key: "nope", success: true)
            XCTFail("unknown key")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .notFound)
        }
        _ = try await client.reserveRetrySlot(key: "k", lastError: "x")
        do {
            try await client.resetRetry(key: "k")
            XCTFail("not an admin")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .permissionDenied)
        }
        do {
            _ = try await client.reserveRetrySlot(key: "k", lastError: "x", policy: "nope")
            XCTFail("unknown policy")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .invalidArgument)
            XCTAssertTrue(error.message.contains("policies: default"), error.message)
        }
    }
}

actor ReceivedGrants {
    private(set) var highest: [String: Int] = [:]
    private(set) var total = 0

    func record(key: String, attempt: Int) {
        highest[key] = max(highest[key] ?? 0, attempt)
        total += 1
    }
}
