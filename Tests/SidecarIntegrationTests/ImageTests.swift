import Foundation
import SidecarClient
import XCTest

/// EnsureImage on the real daemon with the command backend and real scripts.
final class ImageTests: XCTestCase {
    private var directory: String!
    private var store: ImageStoreFixture!
    private var daemon: DaemonProcess?

    override func setUpWithError() throws {
        directory = DaemonProcess.makeTemporaryDirectory()
        store = try ImageStoreFixture(directory: directory)
    }

    override func tearDown() {
        daemon = nil
    }

    private func start(_ images: [ImageStoreFixture.Image], extra: String = "") throws -> SidecarClient {
        let started = try DaemonProcess(config: store.config(images, extraImagesKeys: extra), directory: directory)
        daemon = started
        return started.client()
    }

    private func sidecarctl(_ arguments: [String]) throws -> CommandResult {
        try CommandResult.run(DaemonProcess.sidecarctlPath, arguments + ["--socket", daemon!.socketPath])
    }

    func test200ConcurrentCallsForAMissingImageRunTheBuildOnceAndAllSucceed() async throws {
        try store.set("agent", "delay", "1")
        let socket = try start([.init(name: "agent")]).socketPath
        // Four connections with fifty calls in flight each.
        let clients = (0..<4).map { _ in SidecarClient(socketPath: socket, options: .init(connectRetrySeconds: 3)) }
        let answers = try await withThrowingTaskGroup(of: EnsureImageAnswer.self) { group in
            for index in 0..<200 {
                group.addTask { try await clients[index % 4].ensureImage("agent", timeout: .seconds(30)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(answers.count, 200)
        XCTAssertEqual(store.builds(of: "agent"), 1, "one build for 200 callers: \(store.log)")
        XCTAssertTrue(answers.allSatisfy { $0.outcome == .built }, "\(Set(answers.map(\.outcome)))")
        XCTAssertEqual(answers.filter { !$0.coalesced }.count, 1, "one caller started the job, the others joined it")
        XCTAssertGreaterThan(answers[0].jobSeconds, 0.9)

        let again = try await clients[0].ensureImage("localhost/agent:latest")
        XCTAssertEqual(again.outcome, .present)
        XCTAssertEqual(store.builds(of: "agent"), 1)
    }

    func testBaseAndDerivedBothMissingBuildTheBaseFirst() async throws {
        try store.set("derived", "base", "base")
        let client = try start([.init(name: "base"), .init(name: "derived", base: "base")])
        let answer = try await client.ensureImage("derived", timeout: .seconds(30))
        XCTAssertEqual(answer.outcome, .built)
        XCTAssertEqual(store.log, ["start base", "done base", "start derived", "done derived"])
        let images = try await client.listImages()
        XCTAssertEqual(images.map(\.name), ["base", "derived"])
        XCTAssertEqual(images.map(\.present), [true, true])
        XCTAssertEqual(images[1].baseImage, "base")
    }

    func testAFailingBuildAnswersEveryWaiterWithItsOutputBacksOffAndBuildsAgainAfter() async throws {
        try store.set("broken", "fail")
        try store.set("broken", "delay", "0.5")
        let client = try start([.init(name: "broken")], extra: "failure_backoff = \"2s\"\nfailure_backoff_max = \"4s\"")
        let errors = await withTaskGroup(of: SidecarError?.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    do {
                        _ = try await client.ensureImage("broken", timeout: .seconds(30))
                        return nil
                    } catch {
                        return error as? SidecarError
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(errors.compactMap { $0 }.count, 20, "every waiter fails")
        XCTAssertEqual(Set(errors.map { $0?.code }), [.unavailable], "no rule knows the output: transient")
        let first = try XCTUnwrap(errors.first ?? nil)
        XCTAssertTrue(first.message.contains("step 2 failed for broken"), first.message)
        XCTAssertTrue(first.message.contains("exited with status 3"), first.message)
        XCTAssertEqual(first.detail?.category, "build_failed")
        XCTAssertEqual(first.detail?.permanent, false)
        XCTAssertEqual(store.builds(of: "broken"), 1)

        // During the back-off: the last error at once, no build, exit 75.
        let during = try sidecarctl(["ensure-image", "broken"])
        XCTAssertEqual(during.status, 75, during.stderr)
        XCTAssertTrue(during.stderr.contains("backing off"), during.stderr)
        XCTAssertTrue(during.stderr.contains("step 2 failed"), during.stderr)
        let listed = try await client.listImages()
        XCTAssertEqual(listed.first?.state, .backingOff)
        XCTAssertGreaterThan(listed.first?.backoffRemainingSeconds ?? 0, 0)
        XCTAssertEqual(store.builds(of: "broken"), 1)

        store.clear("broken", "fail")
        let backOffEnded = try await waitUntil(timeout: 5) { try await client.listImages().first?.state == .idle }
        XCTAssertTrue(backOffEnded)
        let answer = try await client.ensureImage("broken", timeout: .seconds(30))
        XCTAssertEqual(answer.outcome, .built)
        XCTAssertEqual(store.builds(of: "broken"), 2, "a fresh build after the back-off")
    }

    func testAHangingBuildIsKilledAtItsTimeoutWithItsChildren() async throws {
        try store.set("stuck", "hang")
        let client = try start([.init(name: "stuck", jobTimeout: "1s")])
        let began = Date()
        do {
            _ = try await client.ensureImage("stuck", timeout: .seconds(30))
            XCTFail("a hanging build cannot succeed")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .unavailable, error.message)
            XCTAssertEqual(error.detail?.category, "job_timeout")
            XCTAssertTrue(error.message.contains("time-out of 1s"), error.message)
            XCTAssertTrue(error.message.contains("step 1: preparing stuck"), "output before the kill is kept: \(error.message)")
        }
        // SIGTERM at 1 s; the shell waits on its sleep, so SIGKILL follows the grace.
        XCTAssertLessThan(Date().timeIntervalSince(began), 10)
        let pids = store.hangingPIDs(of: "stuck")
        XCTAssertEqual(pids.count, 2, "the script and its background child")
        let allGone = await (try? waitUntil(timeout: 5) { pids.allSatisfy(processIsGone) }) ?? false
        XCTAssertTrue(allGone, "the whole process group is killed: \(pids.filter { !processIsGone($0) })")
    }

    func testAnImageRemovedOutOfBandIsSeenAndAKeepWarmOneIsRebuiltUnasked() async throws {
        let client = try start(
            [.init(name: "warm", keepWarm: true), .init(name: "plain")], extra: "presence_ttl = \"1s\"")
        let events = client.watch(topics: ["image."], timeout: .seconds(20))
        let removal = Task { () -> SidecarEvent? in
            do {
                for try await event in events where event.topic == "image.removed" && event.subject == "warm" { return event }
            } catch {}
            return nil
        }
        let madeAtStart = try await waitUntil(timeout: 10) { self.store.isPresent("warm") }
        XCTAssertTrue(madeAtStart, "a keep_warm image is made without anyone asking")
        let plain = try await client.ensureImage("plain", timeout: .seconds(30))
        XCTAssertEqual(plain.outcome, .built)

        try store.removeOutOfBand("warm")
        try store.removeOutOfBand("plain")
        let rebuilt = try await waitUntil(timeout: 10) { self.store.builds(of: "warm") == 2 && self.store.isPresent("warm") }
        XCTAssertTrue(rebuilt, "keep_warm: rebuilt after it was seen gone (\(store.log))")
        let event = await value(of: removal, within: 10)
        XCTAssertEqual(event?.attributes["ref"], "localhost/warm:latest")
        XCTAssertEqual(store.builds(of: "plain"), 1, "an image without keep_warm waits to be asked")

        try await Task.sleep(for: .milliseconds(1100))
        let again = try await client.ensureImage("plain", timeout: .seconds(30))
        XCTAssertEqual(again.outcome, .built, "its absence is seen after the TTL")
        XCTAssertEqual(store.builds(of: "plain"), 2)
    }

    func testLeasesPersistAcrossARestartAndKeepAnImageFromPrune() async throws {
        for name in ["kept", "loose"] { try store.set(name, "delay", "0") }
        let config = store.config([.init(name: "kept"), .init(name: "loose")], extraImagesKeys: "prune_unused_after = \"0s\"")
        var first: DaemonProcess? = try DaemonProcess(config: config, directory: directory)
        var client = first!.client()
        let answer = try await client.ensureImage("kept", leaseHolder: "runner-1/task-7", leaseTTLSeconds: 600)
        let lease = try XCTUnwrap(answer.lease)
        XCTAssertEqual(lease.target, "kept")
        XCTAssertEqual(lease.holder, "runner-1/task-7")
        _ = try await client.ensureImage("loose")
        first?.stop()

        let second = try DaemonProcess(config: config, directory: directory)
        daemon = second
        client = second.client()
        let restored = try await client.listLeases()
        XCTAssertEqual(restored.map(\.id), [lease.id], "leases live in the state database")
        _ = try await client.ensureImage("kept")
        _ = try await client.ensureImage("loose")

        let dryRun = try await client.prune(dryRun: true)
        XCTAssertEqual(dryRun.removed, ["loose"])
        XCTAssertTrue(store.isPresent("loose"), "a dry run removes nothing")
        let report = try await client.prune()
        XCTAssertEqual(report.removed, ["loose"])
        XCTAssertEqual(report.keptLeased, ["kept"])
        XCTAssertFalse(store.isPresent("loose"))
        XCTAssertTrue(store.isPresent("kept"), "a leased image is never removed")

        try await client.releaseLease(id: lease.id)
        let afterRelease = try await client.prune()
        XCTAssertEqual(afterRelease.removed, ["kept"])
        do {
            try await client.releaseLease(id: lease.id)
            XCTFail("a released lease is gone")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .notFound)
        }
        first = nil
    }

    func testTheDaemonPrunesOnItsOwnScheduleAndKeepsLeasedImages() async throws {
        for name in ["kept", "loose"] { try store.set(name, "delay", "0") }
        let client = try start(
            [.init(name: "kept"), .init(name: "loose")], extra: "prune_unused_after = \"0s\"\nprune_every = \"1s\"")
        _ = try await client.ensureImage("kept", leaseHolder: "runner-3", leaseTTLSeconds: 600)
        _ = try await client.ensureImage("loose")
        let pruned = try await waitUntil(timeout: 10) { !self.store.isPresent("loose") }
        XCTAssertTrue(pruned, "removed by the daemon's own prune")
        XCTAssertTrue(store.isPresent("kept"), "a leased image stays")
    }

    func testALeaseExpiresByItsTTLWithAnEvent() async throws {
        let client = try start([])
        let events = client.watch(topics: ["lease."], timeout: .seconds(10))
        let expiry = Task { () -> SidecarEvent? in
            do {
                for try await event in events { return event }
            } catch {}
            return nil
        }
        let lease = try await client.acquireLease(target: "tools", holder: "runner-2", ttlSeconds: 1)
        let renewed = try await client.acquireLease(target: "tools", holder: "runner-2", ttlSeconds: 1)
        XCTAssertEqual(renewed.id, lease.id, "re-acquiring renews")
        let event = await value(of: expiry, within: 10)
        XCTAssertEqual(event?.topic, "lease.expired")
        XCTAssertEqual(event?.attributes["id"], lease.id)
        let left = try await client.listLeases()
        XCTAssertEqual(left, [])
    }

    func testBadReferencesUnknownImagesAndExitCodes() async throws {
        try store.set("agent", "delay", "0")
        let client = try start([.init(name: "agent")])
        do {
            _ = try await client.ensureImage("--privileged")
            XCTFail("an option is not a reference")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .invalidArgument)
        }
        let unknown = try sidecarctl(["ensure-image", "registry.example/nothing:1"])
        XCTAssertEqual(unknown.status, 1, "not configured and nothing can pull it: \(unknown.stderr)")
        XCTAssertTrue(unknown.stderr.contains("NOT_FOUND"), unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("remedy:"), unknown.stderr)

        let made = try sidecarctl(["ensure-image", "agent", "--json"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["outcome"] as? String, "BUILT")
        let present = try sidecarctl(["ensure-image", "agent"])
        XCTAssertEqual(present.status, 0)
        XCTAssertTrue(present.stdout.contains("PRESENT"), present.stdout)
        let listed = try sidecarctl(["images"])
        XCTAssertTrue(listed.stdout.contains("localhost/agent:latest"), listed.stdout)
    }
}
