import Foundation
import SidecarClient
import SidecarCore
import SidecarWire
import XCTest

/// The Swift client against a real daemon: answers, concurrency, deadlines
/// and cancellation.
final class ClientCallTests: XCTestCase {
    func testHealthAndClassify() async throws {
        let daemon = try DaemonProcess()
        let client = daemon.client()
        let health = try await client.health()
        XCTAssertEqual(health.version, SidecarDefaults.version)
        XCTAssertEqual(health.state, "serving")
        XCTAssertEqual(health.pid, UInt32(daemon.pid))
        XCTAssertEqual(health.connections, 1)
        XCTAssertEqual(health.inflightCalls, 1, "the Health call itself")

        let verdict = try await client.classify(FailureReport(message: "Back-off: ErrImageNeverPull for \"x:1\"", image: "agent:7"))
        XCTAssertTrue(verdict.permanent)
        XCTAssertEqual(verdict.category, "image_missing")
        XCTAssertTrue(verdict.remedy.contains("agent:7"))
        XCTAssertNil(verdict.retryAfterSeconds)
        let limited = try await client.classify(FailureReport(message: "toomanyrequests: retry-after: 2s"))
        XCTAssertEqual(limited.retryAfterSeconds, 2)
        let rules = try await client.listRules()
        XCTAssertEqual(rules.map(\.id), ErrorClassifier().rules.map(\.id))
        XCTAssertEqual(rules.map(\.rule), ErrorClassifier().rules.map(\.rule))

        do {
            _ = try await client.classify(FailureReport(message: ""))
            XCTFail("an empty report must be refused")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .invalidArgument)
        }
    }

    /// The daemon matches requests in place and copies pre-encoded answers;
    /// what it answers must be what the classifier says in process.
    func testClassifyAnswersEqualTheClassifierInProcess() async throws {
        let rule = "\n[[classify.rule]]\nmatch = \"quota exceeded\"\ncategory = \"quota\"\npermanent = true\n"
            + "remedy = \"Raise the quota for {image}.\"\n"
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + rule)
        let client = daemon.client()
        let local = ErrorClassifier(configRules: [
            ClassificationRule(
                name: "0", substrings: ["quota exceeded"], category: "quota", permanent: true,
                remedy: "Raise the quota for {image}.")
        ])
        let reports = [
            FailureReport(message: "Quota EXCEEDED pulling 'big/model:3'"),
            FailureReport(message: "quota exceeded", image: "big/model:3"),
            FailureReport(message: "manifest unknown", image: "127.0.0.1:5000/agent/x:1"),
            FailureReport(message: "toomanyrequests: retry-after: 333.011µs, allowed: 44000/minute"),
            FailureReport(message: "toomanyrequests: rate limit", image: "a/b:1"),
            FailureReport(message: "dial tcp: connect: connection refused; Retry-After: 30"),
            FailureReport(message: #"Container image "optio-node:latest" is not present with pull policy of Never"#),
            FailureReport(message: "ErrImageNeverPull"),
            FailureReport(message: "InvalidImageName: invalid reference format: 'UPPER:case'"),
            FailureReport(message: "manifest unknown: manifest unknown"),
            FailureReport(message: "pull access denied, repository does not exist or may require 'docker login'"),
            FailureReport(message: "Unable to find image 'agent:latest' locally", exitCode: 125),
            FailureReport(message: "Back-off pulling image \"registry.local:5000/team/agent@sha256:abc\""),
            FailureReport(message: "ErrImagePull"),
            FailureReport(message: "Error: database disk image is malformed"),
            FailureReport(message: "", sqliteCode: 267),
            FailureReport(message: "database is locked"),
            FailureReport(message: "", sqliteCode: 6),
            FailureReport(message: "", exitCode: 125),
            FailureReport(message: "", exitCode: 1),
            FailureReport(message: "ünïcode — nothing known here"),
            FailureReport(message: String(repeating: "x", count: 5000) + " ImagePullBackOff 'a/b:c'"),
        ]
        // Twice over, the second time from the daemon's memo of matches, and
        // each message again with other codes and images, which it must not
        // answer from the memo.
        for round in 0..<2 {
            for report in reports {
                var variants = [report]
                if round == 1 {
                    variants += [
                        FailureReport(message: report.message, exitCode: 125, image: report.image),
                        FailureReport(message: report.message, sqliteCode: 11, image: report.image),
                        FailureReport(message: report.message, exitCode: report.exitCode, image: "other/image:2"),
                    ]
                }
                for variant in variants where !variant.isEmpty {
                    let answer = try await client.classify(variant)
                    XCTAssertEqual(answer, local.classify(variant), "round \(round): \(variant)")
                }
            }
        }
    }

    /// protobuf-c would send "alias\0A" as "alias": the client refuses a
    /// string holding a NUL before anything is sent, with the code the
    /// daemon answers such a field with, naming the field.
    func testStringsWithNULAreRefusedBeforeTheyAreSent() async throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let client = daemon.client()
        func refusal(_ call: () async throws -> Void) async -> SidecarError? {
            do {
                try await call()
                return nil
            } catch {
                return error as? SidecarError
            }
        }
        let key = await refusal { _ = try await client.reserveRetrySlot(key: "alias\u{0}A", lastError: "connection reset") }
        XCTAssertEqual(key?.code, .invalidArgument)
        XCTAssertEqual(key?.message, "not sent: field key of sidecar.v1.ReserveRetrySlotRequest holds a NUL byte")
        let error = await refusal { _ = try await client.reserveRetrySlot(key: "plain", lastError: "x\u{0}ErrImageNeverPull") }
        XCTAssertEqual(error?.code, .invalidArgument)
        XCTAssertTrue(error?.message.contains("field last_error") == true, "\(String(describing: error))")
        let topic = await refusal { for try await _ in client.watch(topics: ["retry.\u{0}"], timeout: .seconds(5)) {} }
        XCTAssertEqual(topic?.code, .invalidArgument)
        XCTAssertTrue(topic?.message.contains("field topics") == true, "\(String(describing: topic))")
        let retries = try await client.listRetries()
        XCTAssertEqual(retries.map(\.key), [], "no key reached the daemon")

        // A client name is sent in the HELLO: every call fails, and no
        // connection is made.
        let named = SidecarClient(socketPath: daemon.socketPath, options: .init(clientName: "runner\u{0}7"))
        let hello = await refusal { _ = try await named.health() }
        XCTAssertEqual(hello?.code, .invalidArgument)
        XCTAssertEqual(hello?.message, "not sent: field client_name of sidecar.v1.ClientFrame holds a NUL byte")
        let health = try await client.health()
        XCTAssertEqual(health.connections, 1, "only the first client's connection")
    }

    func testHundredConcurrentCallsOnOneConnectionAreAnsweredOutOfOrder() async throws {
        let daemon = try DaemonProcess()
        let client = daemon.client()
        _ = try await client.health()  // one connection, opened before the burst
        let order = CompletionOrder()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<100 {
                // Later calls sleep less, so they finish first.
                let milliseconds = UInt32((100 - index) * 4)
                group.addTask {
                    let answer = try await client.debugSleep(milliseconds: milliseconds)
                    // Each answer is its own call's: it slept at least as asked.
                    XCTAssertGreaterThanOrEqual(answer.sleptSeconds, Double(milliseconds) / 1000 - 0.002)
                    XCTAssertLessThan(answer.sleptSeconds, Double(milliseconds) / 1000 + 1.0)
                    await order.record(index)
                }
            }
            try await group.waitForAll()
        }
        let finished = await order.indices
        XCTAssertEqual(finished.count, 100)
        XCTAssertEqual(Set(finished).count, 100)
        XCTAssertGreaterThan(finished.first!, 50, "a late, short call should finish first: \(finished.prefix(10))")
        let health = try await client.health()
        XCTAssertEqual(health.connections, 1, "all calls shared one connection")
    }

    func testDeadlineExceeded() async throws {
        let daemon = try DaemonProcess()
        let client = daemon.client()
        let started = Date()
        do {
            _ = try await client.debugSleep(milliseconds: 10_000, timeout: .milliseconds(200))
            XCTFail("the call must not outlive its deadline")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .deadlineExceeded)
            XCTAssertTrue(error.message.contains("200 ms"), error.message)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.0, "the daemon, not the local fallback, ended it")
        let health = try await client.health()
        XCTAssertEqual(health.inflightCalls, 1, "the expired call left nothing behind")
    }

    func testCancellationReachesTheDaemon() async throws {
        let daemon = try DaemonProcess()
        let client = daemon.client()
        let sleeper = Task { try await client.debugSleep(milliseconds: 10_000) }
        let started = try await eventuallyInflight(client, equals: 2)
        XCTAssertTrue(started)
        sleeper.cancel()
        do {
            _ = try await sleeper.value
            XCTFail("a cancelled call must throw")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .cancelled)
        }
        let stopped = try await eventuallyInflight(client, equals: 1)
        XCTAssertTrue(stopped, "the daemon stopped the call")
        let metrics = try await client.metrics()
        XCTAssertTrue(metrics.contains("sidecar_calls_total{method=\"Debug.Sleep\",code=\"CANCELLED\"} 1"), metrics)
    }

    func testWatchStreamsEventsAndEndsAtItsDeadline() async throws {
        let daemon = try DaemonProcess()
        let client = daemon.client()
        let stream = client.watch(topics: ["config."], timeout: .milliseconds(1500))
        let collector = Task { () -> ([SidecarEvent], SidecarError?) in
            var events: [SidecarEvent] = []
            do {
                for try await event in stream { events.append(event) }
                return (events, nil)
            } catch {
                return (events, error as? SidecarError)
            }
        }
        let metricsHaveWatcher = try await waitUntil { try await client.metrics().contains("sidecar_watchers 1") }
        XCTAssertTrue(metricsHaveWatcher)
        _ = try await client.reload()
        let (events, ending) = await value(of: collector, within: 10)
        XCTAssertEqual(events.map(\.topic), ["config.reloaded"])
        XCTAssertEqual(events.first?.subject, daemon.configPath)
        XCTAssertEqual(ending?.code, .deadlineExceeded)
    }

    func testAnswersTooLargeForTheLimitAreRefusedAndTheConnectionGoesOn() async throws {
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + "[limits]\nmax_message_bytes = 1024\n")
        let client = daemon.client()
        do {
            _ = try await client.metrics()
            XCTFail("the metrics text is larger than 1 KiB")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .resourceExhausted)
            XCTAssertTrue(error.message.contains("limits.max_message_bytes"), error.message)
        }
        do {
            _ = try await client.classify(FailureReport(message: String(repeating: "x", count: 4096)))
            XCTFail("a request over the limit must be refused")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .resourceExhausted)
        }
        let health = try await client.health()
        XCTAssertEqual(health.state, "serving")
    }

    private func eventuallyInflight(_ client: SidecarClient, equals count: UInt32) async throws -> Bool {
        try await waitUntil { try await client.health().inflightCalls == count }
    }

}

actor CompletionOrder {
    private(set) var indices: [Int] = []
    func record(_ index: Int) { indices.append(index) }
}

/// The client outlives daemon restarts: a lost connection is re-made by the
/// next call, and connecting retries while a new daemon is still starting.
final class ClientReconnectTests: XCTestCase {
    func testTheNextCallReconnectsAfterARestart() async throws {
        let first = try DaemonProcess()
        let client = first.client()
        let before = try await client.health()
        first.signal(SIGTERM)
        XCTAssertEqual(first.waitForExit(), 0)
        do {
            _ = try await client.health()
            XCTFail("no daemon is running")
        } catch let error as SidecarError {
            XCTAssertTrue(error.isUnreachable, "\(error)")
        }
        // Started without waiting: the client's connect retries cover the start.
        let second = try DaemonProcess(directory: first.directory, waitUntilReady: false)
        let after = try await client.health()
        XCTAssertNotEqual(after.pid, before.pid)
        XCTAssertEqual(after.pid, UInt32(second.pid))
    }
}
