import Foundation
import SidecarClient
import XCTest

/// `sidecarctl run -- podman run ...` around real containers (podman, runc,
/// busybox) with the command backend building the image with podman.
final class ContainerRunTests: XCTestCase {
    private var directory: String!
    private var host: ContainerHost!
    private var daemon: DaemonProcess?
    private let ref = "localhost/sidecar-run-test:1"

    override func setUpWithError() throws {
        try ContainerHost.skipUnlessAvailable()
        directory = DaemonProcess.makeTemporaryDirectory()
        host = try ContainerHost(directory: directory)
    }

    override func tearDown() {
        host = nil
        daemon = nil
    }

    private func start(extraConfig: String = "", extraImagesKeys: String = "") throws -> SidecarClient {
        let config = host.commandBackendConfig(name: "agent", ref: ref, extraImagesKeys: extraImagesKeys) + extraConfig
        let started = try DaemonProcess(config: config, directory: directory)
        daemon = started
        return started.client()
    }

    /// `sidecarctl run FLAGS -- podman run OPTIONS IMAGE COMMAND...`, started.
    private func wrapper(_ flags: [String], _ options: [String] = [], image: String? = nil, _ command: [String]) throws -> StartedCommand {
        try StartedCommand(
            DaemonProcess.sidecarctlPath,
            ["run", "--socket", daemon!.socketPath] + flags + ["--"] + host.runArguments(options) + [image ?? ref, "/bin/busybox"] + command)
    }

    func test20WrappersAtOnceShareOneBuildAndEachLeaseLivesAsLongAsItsWrapperThroughAPrune() async throws {
        let client = try start(extraImagesKeys: "prune_unused_after = \"0s\"")
        let gate = directory + "/gate"
        try FileManager.default.createDirectory(atPath: gate, withIntermediateDirectories: true)
        XCTAssertFalse(host.imageExists(ref))
        // Each container waits at the gate, so all 20 run at once.
        let wait = "while [ ! -e /gate/open ]; do sleep 0.05; done; echo done"
        let wrappers = try (0..<20).map { _ in try wrapper(["--lease"], ["-v", "\(gate):/gate"], ["sh", "-c", wait]) }
        let allLeased = try await waitUntil(timeout: 120) { try await client.listLeases().count == 20 }
        let leases = try await client.listLeases()
        XCTAssertTrue(allLeased, "\(leases.count) leases; daemon log:\n\(daemon!.log)")
        XCTAssertEqual(Set(leases.compactMap { $0.holderProcess?.pid }), Set(wrappers.map(\.pid)), "one lease per wrapper, bound to it")
        XCTAssertEqual(Set(leases.map(\.target)), ["agent"])
        XCTAssertEqual(host.builds, 1, "20 wrappers, one build")

        let pruned = try CommandResult.sidecarctl(["prune", "--json", "--socket", daemon!.socketPath])
        XCTAssertEqual(pruned.status, 0, pruned.stderr)
        XCTAssertFalse(pruned.stdout.contains("\"removed\":[\"agent\""), pruned.stdout)
        XCTAssertTrue(host.imageExists(ref), "nothing leased is removed")

        FileManager.default.createFile(atPath: gate + "/open", contents: nil)
        for wrapper in wrappers {
            let ended = await wrapper.finish()
            XCTAssertEqual(ended.status, 0, ended.stderr)
            XCTAssertEqual(ended.stdout, "done\n", "stdout passes through")
            // Released before the wrapper exits.
            let held = try await client.listLeases().compactMap { $0.holderProcess?.pid }
            XCTAssertFalse(held.contains(wrapper.pid), "the lease of wrapper \(wrapper.pid) outlived it")
        }
        let left = try await client.listLeases()
        XCTAssertEqual(left, [])
        let report = try await client.prune()
        XCTAssertEqual(report.removed, ["agent"], "unleased, the same prune removes it")
    }

    func testTheEngineStatusComesBackUnchangedAndSIGTERMStopsTheContainer() async throws {
        _ = try start()
        let three = try await wrapper([], [], ["sh", "-c", "echo to-stderr >&2; exit 3"]).finish()
        XCTAssertEqual(three.status, 3, three.stderr)
        XCTAssertTrue(three.stderr.contains("to-stderr"), "stderr passes through: \(three.stderr)")

        let killed = try wrapper(["--lease"], ["--name", "killed"], ["sleep", "300"])
        let started = try await waitUntil(timeout: 60) { try self.host.pid(ofContainer: "killed") != nil }
        XCTAssertTrue(started)
        kill(try XCTUnwrap(host.pid(ofContainer: "killed")), SIGKILL)
        let killedEnd = await killed.finish()
        XCTAssertEqual(killedEnd.status, 137, killedEnd.stderr)

        // The container's shell stops on SIGTERM (as PID 1 it has no default action).
        let stopping = try wrapper([], ["--name", "stopping"], ["sh", "-c", "trap 'exit 143' TERM; sleep 300 & wait"])
        let running = try await waitUntil(timeout: 60) { try self.host.pid(ofContainer: "stopping") != nil }
        XCTAssertTrue(running)
        stopping.signal(SIGTERM)
        let stopped = await stopping.finish(within: 30) { _ = try? self.host.podman(["rm", "-f", "-t", "0", "stopping"]) }
        XCTAssertEqual(stopped.status, 143, stopped.stderr)
        XCTAssertFalse(try host.podman(["ps", "-a", "--format", "{{.Names}}"]).stdout.contains("stopping"), "the container is gone")
    }

    /// Seed 002: the image removed (an external prune) between the wrapper's
    /// ensure and the engine's run. The engine is podman itself, behind a
    /// shell that removes the image with `podman rmi` the first time only,
    /// just before it execs podman's run: podman fails with its own 125
    /// ("image not known"), the daemon classifies it, and the wrapper
    /// ensures once more (the daemon finds the image gone and builds it) and
    /// runs the engine again. presence_ttl is 1 ms so that the second ensure
    /// checks the store instead of answering PRESENT from the first one's
    /// check (5 s by default): that cache is what would hide the removal.
    func testAnImageRemovedBetweenTheEnsureAndTheRunIsEnsuredOnceMoreAndTheEngineRunsAgain() async throws {
        let client = try start(extraImagesKeys: "presence_ttl = \"1ms\"")
        _ = try await client.ensureImage("agent", timeout: .seconds(60))
        XCTAssertEqual(host.builds, 1)
        let removed = directory + "/removed"
        let rmi = ([ContainerHost.podman] + host.storeArguments + ["rmi", ref]).joined(separator: " ")
        let engine = ["/bin/sh", "-c", "[ -e \(removed) ] || { touch \(removed); \(rmi) > /dev/null; }; exec \"$@\"", "sh"]
        let counters = [
            "sidecar_image_ensure_total{answer=\"present\"}", "sidecar_image_ensure_total{answer=\"joined\"}",
            "sidecar_calls_total{method=\"Classify\",code=\"OK\"}",
        ]
        var before: [Int] = []
        for series in counters { before.append(try await client.counter(series)) }

        let run = try await StartedCommand(
            DaemonProcess.sidecarctlPath,
            ["run", "--socket", daemon!.socketPath, "--image", "agent", "--"] + engine + host.runArguments()
                + [ref, "/bin/busybox", "sh", "-c", "echo ran; exit 7"]
        ).finish()
        XCTAssertEqual(run.status, 7, "the status of the engine's second run: \(run.stderr)")
        XCTAssertEqual(run.stdout, "ran\n", "the container ran once, the second time")
        XCTAssertTrue(FileManager.default.fileExists(atPath: removed), "the image was removed before the first run")
        XCTAssertTrue(run.stderr.contains("\(ref): image not known"), "podman's own 125: \(run.stderr)")
        XCTAssertTrue(run.stderr.contains("sidecarctl run: the engine could not find agent: ensuring it again"), run.stderr)
        var after: [Int] = []
        for series in counters { after.append(try await client.counter(series)) }
        let asked = zip(before, after).map { $1 - $0 }
        XCTAssertEqual(asked, [1, 1, 1], "\(counters): the first ensure found the image, podman's error was classified, the second ensure built it")
        XCTAssertEqual(host.builds, 2, "the second ensure built the image again")
        XCTAssertTrue(host.imageExists(ref))
    }

    func testTheLedgersCapStopsAFailingContainerAndAnImageThatCannotExistStopsAtOnce() async throws {
        let client = try start(extraConfig: "[retry.policy.fast]\nmax_attempts = 2\nbase_delay = \"10ms\"\nmax_delay = \"10ms\"\n")
        let runs = directory + "/runs"
        try FileManager.default.createDirectory(atPath: runs, withIntermediateDirectories: true)
        let failing = try await wrapper(
            ["--retry-key", "spawn:task-1", "--policy", "fast"], ["-v", "\(runs):/runs"],
            ["sh", "-c", "echo run >> /runs/log; echo 'agent crashed' >&2; exit 3"]
        ).finish()
        XCTAssertEqual(failing.status, 1, failing.stderr)
        XCTAssertTrue(failing.stderr.contains("has used its 2 retries"), failing.stderr)
        let log = (try? String(contentsOfFile: runs + "/log", encoding: .utf8)) ?? ""
        XCTAssertEqual(log.split(separator: "\n").count, 3, "the first run and the policy's 2 retries")
        let keys = try await client.listRetries()
        XCTAssertEqual(keys.first { $0.key == "spawn:task-1" }?.state, .exhausted)

        let began = Date()
        let never = try await wrapper(
            ["--retry-key", "spawn:task-2"], ["-v", "\(runs):/runs"], image: "localhost/never-built:1",
            ["sh", "-c", "echo ran >> /runs/never"]
        ).finish()
        XCTAssertEqual(never.status, 1, never.stderr)
        XCTAssertTrue(never.stderr.contains("NOT_FOUND"), never.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: runs + "/never"), "the engine never ran")
        XCTAssertLessThan(Date().timeIntervalSince(began), 10, "no retry loop")
    }
}
