import Foundation
import SidecarClient
import SidecarCore
import XCTest

/// What a long job shows while it runs: its output as rate-limited
/// `image.job.progress` events, its place in the queue, `ensure-image`'s
/// live line on a terminal and plain lines elsewhere, and a job that goes
/// silent stopped at `images.job_stall_timeout`. Command backend, real
/// shell scripts as builds.
final class ImageProgressTests: XCTestCase {
    private var daemon: DaemonProcess?

    override func tearDown() {
        daemon = nil
    }

    /// Images built by `sh -c SCRIPT`; present once the script has touched
    /// DIR/NAME.done.
    private func start(_ scripts: [String: String], extra: String = "") throws -> SidecarClient {
        let directory = DaemonProcess.makeTemporaryDirectory()
        var config = DaemonProcess.baseConfig + """
            [images]
            backend = "command"
            \(extra)

            [images.command]
            exists = ["test", "-e", "\(directory)/{name}.done"]

            """
        for (name, script) in scripts.sorted(by: { $0.key < $1.key }) {
            config += """
                [[images.image]]
                name = "\(name)"
                ref = "localhost/\(name):1"
                build = ["sh", "-c", "\(script); touch \(directory)/\(name).done"]

                """
        }
        let started = try DaemonProcess(config: config, directory: directory)
        daemon = started
        return started.client()
    }

    private func events(_ client: SidecarClient, into box: EventBox) -> Task<Void, Never> {
        Task {
            do {
                for try await event in client.watch(topics: ["image.job."]) { box.append(event) }
            } catch {}
        }
    }

    func testAChattyBuildBecomesAFewProgressEventsASecondWithItsElapsedTime() async throws {
        let client = try start(["chatty": "i=0; while [ $i -lt 400 ]; do echo line $i; i=$((i+1)); sleep 0.005; done"])
        let box = EventBox()
        let watching = events(client, into: box)
        try await waitForWatchers(client)
        let answer = try await client.ensureImage("chatty", timeout: .seconds(60))
        watching.cancel()
        let progress = box.events.filter { $0.topic == "image.job.progress" }
        XCTAssertGreaterThan(progress.count, 1, "\(box.events.map(\.message))")
        // 400 lines over the job's seconds: at most one event per 0.25 s, plus the first.
        XCTAssertLessThanOrEqual(Double(progress.count), answer.jobSeconds / 0.25 + 1, "\(progress.map(\.message))")
        XCTAssertTrue(progress.allSatisfy { $0.attributes["line"]?.hasPrefix("line ") == true && $0.attributes["elapsed_seconds"] != nil })
        let elapsed = progress.compactMap { Double($0.attributes["elapsed_seconds"] ?? "") }
        XCTAssertEqual(elapsed, elapsed.sorted(), "elapsed time grows")
    }

    func testAQueuedJobSaysHowManyAreAheadOfIt() async throws {
        let client = try start(["first": "sleep 1", "second": "sleep 0.1", "third": "sleep 0.1"], extra: "max_concurrent_builds = 1")
        let box = EventBox()
        let watching = events(client, into: box)
        try await waitForWatchers(client)
        let state = { (name: String) async throws -> ImageStatus.State? in try await client.listImages().first { $0.name == name }?.state }
        async let first = client.ensureImage("first", timeout: .seconds(60))
        let firstRuns = try await waitUntil { try await state("first") == .building }
        XCTAssertTrue(firstRuns, "first is building before second is asked for")
        async let second = client.ensureImage("second", timeout: .seconds(60))
        let secondWaits = try await waitUntil { try await state("second") == .queued }
        XCTAssertTrue(secondWaits, "second is queued before third is asked for")
        async let third = client.ensureImage("third", timeout: .seconds(60))
        let answers = try await [first, second, third]
        watching.cancel()
        XCTAssertEqual(answers.map(\.queuedBehind), [0, 0, 1], "first ran at once; second waited for the slot; third behind second")
        let queued = box.events.filter { $0.topic == "image.job.queued" }
        XCTAssertEqual(queued.map(\.subject), ["second", "third"])
        XCTAssertEqual(queued.map { $0.attributes["ahead"] }, ["0", "1"])
        XCTAssertEqual(queued.map { $0.attributes["running"] }, ["1", "1"])
    }

    func testEnsureImageShowsALiveLineOnATerminalAndPlainLinesOtherwise() throws {
        _ = try start(["steps": "for i in 1 2 3; do echo step $i/3; sleep 0.4; done", "other": "for i in 1 2 3; do echo step $i/3; sleep 0.4; done"])
        let socket = daemon!.socketPath
        let plain = try CommandResult.sidecarctl(["ensure-image", "steps", "--socket", socket])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertTrue(plain.stderr.contains("sidecarctl: building steps: step 2/3"), plain.stderr)
        XCTAssertFalse(plain.stderr.contains("\u{1B}["), "no terminal codes off a terminal")
        XCTAssertTrue(plain.stdout.hasPrefix("steps (localhost/steps:1): BUILT"), plain.stdout)

        // script(1) gives the command a terminal.
        let command = "\(DaemonProcess.sidecarctlPath) ensure-image other --socket \(socket)"
        let live = try CommandResult.run("/usr/bin/script", ["-qec", command, "/dev/null"])
        XCTAssertEqual(live.status, 0, live.stdout)
        XCTAssertTrue(live.stdout.contains("\r\u{1B}[Kbuilding other: step 2/3"), live.stdout.debugDescription)
        XCTAssertTrue(live.stdout.contains("\r\u{1B}[Kother (localhost/other:1): BUILT"), "the status line is cleared first: \(live.stdout.debugDescription)")

        let none = try CommandResult.sidecarctl(["ensure-image", "steps", "--progress", "none", "--socket", socket])
        XCTAssertEqual(none.stderr, "")
    }

    func testASilentJobIsStoppedAtTheStallTimeout() async throws {
        let client = try start(["silent": "echo started; sleep 30"], extra: "job_stall_timeout = \"1s\"")
        let began = Date()
        do {
            _ = try await client.ensureImage("silent", timeout: .seconds(60))
            XCTFail("a job silent past the stall timeout is stopped")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .unavailable, "a stall may pass: asking again later builds afresh")
            XCTAssertTrue(error.message.contains("printing nothing for 1s (images.job_stall_timeout)"), error.message)
            XCTAssertTrue(error.message.contains("started"), "its output is kept: \(error.message)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(began), 10, "stopped long before its own 30 s")
    }
}

/// Events gathered by a watching task, read by the test.
final class EventBox: @unchecked Sendable {
    private let lock = NSLock()
    private var gathered: [SidecarEvent] = []

    func append(_ event: SidecarEvent) { lock.withLock { gathered.append(event) } }
    var events: [SidecarEvent] { lock.withLock { gathered } }
}
