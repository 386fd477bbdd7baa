import Foundation
import SidecarClient
import SidecarTestSupport
import XCTest

/// The daemon with `images.backend = "docker"` against a real
/// `podman system service`, end to end.
final class DockerImageTests: XCTestCase {
    private var podman: PodmanService!
    private var daemon: DaemonProcess?

    override func setUpWithError() throws {
        guard PodmanService.isInstalled else { throw XCTSkip("podman is not installed (scripts/install-deps.sh test installs it)") }
        podman = try PodmanService()
    }

    override func tearDown() {
        daemon = nil
        podman = nil
    }

    private func start(keepWarmDerived: Bool = false) throws -> SidecarClient {
        let contexts = podman.directory + "/contexts"
        try makeBuildContext(at: contexts + "/base", dockerfile: "FROM scratch\nCOPY base.txt /base.txt\n", files: ["base.txt": "base\n"])
        try makeBuildContext(
            at: contexts + "/derived", dockerfile: "FROM localhost/e2e-base:latest\nCOPY derived.txt /derived.txt\n",
            files: ["derived.txt": "derived\n"])
        try makeBuildContext(at: contexts + "/broken", dockerfile: "FROM scratch\nCOPY nothere /x\n")
        let config = DaemonProcess.baseConfig + """
            [images]
            backend = "docker"
            docker_socket = "\(podman.socketPath)"
            failure_backoff = "30s"

            [[images.image]]
            name = "base"
            ref = "localhost/e2e-base:latest"
            context = "\(contexts)/base"

            [[images.image]]
            name = "derived"
            ref = "localhost/e2e-derived:latest"
            context = "\(contexts)/derived"
            base = "base"
            keep_warm = \(keepWarmDerived)

            [[images.image]]
            name = "broken"
            ref = "localhost/e2e-broken:latest"
            context = "\(contexts)/broken"

            """
        let started = try DaemonProcess(config: config)
        daemon = started
        return started.client()
    }

    private func collect(_ client: SidecarClient, topics: [String], until stop: @escaping @Sendable (SidecarEvent) -> Bool)
        -> Task<[SidecarEvent], Never>
    {
        let events = client.watch(topics: topics, timeout: .seconds(60))
        return Task {
            var seen: [SidecarEvent] = []
            do {
                for try await event in events {
                    seen.append(event)
                    if stop(event) { break }
                }
            } catch {}
            return seen
        }
    }

    func testBaseAndDerivedBothMissingAreBuiltInOrderThroughTheAPI() async throws {
        let client = try start()
        let events = collect(client, topics: ["image.job."]) { $0.topic == "image.job.finished" && $0.subject == "derived" }
        try await waitForWatchers(client)
        let answer = try await client.ensureImage("derived", timeout: .seconds(60))
        XCTAssertEqual(answer.outcome, .built)
        XCTAssertTrue(answer.id.hasPrefix("sha256:") || answer.id.count >= 12, answer.id)
        let seen = await value(of: events, within: 10).map { "\($0.topic) \($0.subject)" }
        XCTAssertEqual(seen, [
            "image.job.started base", "image.job.finished base", "image.job.started derived", "image.job.finished derived",
        ])
        XCTAssertTrue(podman.imageExists("localhost/e2e-base:latest"))
        XCTAssertTrue(podman.imageExists("localhost/e2e-derived:latest"))
        let again = try await client.ensureImage("derived")
        XCTAssertEqual(again.outcome, .present)
    }

    func testAnImageRemovedWithPodmanIsSeenThroughEventsAndKeptWarm() async throws {
        let client = try start(keepWarmDerived: true)
        let madeAtStart = try await waitUntil(timeout: 30) { self.podman.imageExists("localhost/e2e-derived:latest") }
        XCTAssertTrue(madeAtStart, "a keep_warm image is made without anyone asking")
        let finished = try await waitUntil(timeout: 10) {
            try await client.listImages().first { $0.name == "derived" }?.state == .idle
        }
        XCTAssertTrue(finished)
        let events = collect(client, topics: ["image."]) { $0.topic == "image.job.finished" && $0.subject == "derived" }
        try await waitForWatchers(client)
        let removedAt = Date()
        XCTAssertEqual(try podman.podman(["rmi", "localhost/e2e-derived:latest"]).status, 0)
        let seen = await value(of: events, within: 30)
        let removal = try XCTUnwrap(seen.first { $0.topic == "image.removed" && $0.subject == "derived" }, "\(seen.map(\.topic))")
        let seenAfter = Double(removal.timeUnixMilliseconds) / 1000 - removedAt.timeIntervalSince1970
        XCTAssertLessThan(seenAfter, 2, "the removal is seen through the event stream, not a poll")
        XCTAssertEqual(seen.last?.topic, "image.job.finished", "rebuilt without any client asking: \(seen.map(\.topic))")
        XCTAssertTrue(podman.imageExists("localhost/e2e-derived:latest"))
    }

    func testAFailingDockerfileAnswersEveryWaiterWithTheEnginesError() async throws {
        let client = try start()
        let errors = await withTaskGroup(of: SidecarError?.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    do {
                        _ = try await client.ensureImage("broken", timeout: .seconds(60))
                        return nil
                    } catch {
                        return error as? SidecarError
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(errors.compactMap { $0 }.count, 10)
        for error in errors.compactMap({ $0 }) {
            XCTAssertEqual(error.code, .failedPrecondition, "a file missing from the context is permanent")
            XCTAssertEqual(error.detail?.category, "build_context", error.message)
            XCTAssertTrue(error.message.contains("COPY nothere"), error.message)
            XCTAssertTrue(error.message.contains("no such file or directory"), error.message)
        }
        let listed = try await client.listImages().first { $0.name == "broken" }
        XCTAssertEqual(listed?.lastJobOutcome, "FAILED")
    }

    func testTheEngineStoppedAndRestartedMidRunIsSurvived() async throws {
        let client = try start(keepWarmDerived: true)
        let made = try await waitUntil(timeout: 30) {
            try await client.listImages().first { $0.name == "derived" }.map { $0.present && $0.state == .idle } ?? false
        }
        XCTAssertTrue(made)

        podman.stop()
        do {
            _ = try await client.ensureImage("broken", timeout: .seconds(30))
            XCTFail("no engine, no build")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .unavailable)
            XCTAssertTrue(error.message.contains(podman.socketPath), error.message)
            XCTAssertFalse(error.detail?.remedy.isEmpty ?? true)
        }
        let health = try await client.health()
        XCTAssertEqual(health.state, "serving", "the daemon itself is fine")

        try podman.start()
        // Back: the event stream reconnects (and re-verifies what it may
        // have missed), so a removal is seen and the keep_warm image made again.
        let reconnected = try await waitUntil(timeout: 15) {
            (try? await client.ensureImage("base", timeout: .seconds(30)))?.outcome == .present
        }
        XCTAssertTrue(reconnected)
        XCTAssertEqual(try podman.podman(["rmi", "localhost/e2e-derived:latest"]).status, 0)
        let rebuilt = try await waitUntil(timeout: 30) { self.podman.imageExists("localhost/e2e-derived:latest") }
        XCTAssertTrue(rebuilt, "events work again after the engine's restart")
    }
}
