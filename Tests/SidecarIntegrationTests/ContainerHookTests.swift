import Foundation
import SidecarClient
import XCTest

/// `sidecarctl hook` from podman's hooks.d on real containers, and on bad
/// input given by hand.
final class ContainerHookTests: XCTestCase {
    private var directory: String!
    private var host: ContainerHost?
    private var daemon: DaemonProcess?
    private let ref = "localhost/sidecar-hook-test:1"

    override func setUpWithError() throws {
        directory = DaemonProcess.makeTemporaryDirectory()
    }

    override func tearDown() {
        host = nil
        daemon = nil
    }

    /// A daemon with the databases under `directory/db` and the image built,
    /// the hook installed for `hookStages`.
    private func startWithContainers(hookStages: [String] = ["prestart", "poststop"]) async throws -> (ContainerHost, SidecarClient) {
        try ContainerHost.skipUnlessAvailable()
        let host = try ContainerHost(directory: directory)
        self.host = host
        try FileManager.default.createDirectory(atPath: directory + "/db", withIntermediateDirectories: true)
        let config = host.commandBackendConfig(name: "agent", ref: ref) + "[databases]\nroots = [\"\(directory!)/db\"]\n"
        let started = try DaemonProcess(config: config, directory: directory)
        daemon = started
        let client = started.client()
        _ = try await client.ensureImage("agent", timeout: .seconds(60))
        try host.installHooks(socket: started.socketPath, stages: hookStages)
        return (host, client)
    }

    /// podman's arguments (without podman itself) to run a container with the hooks.
    private func containerRun(_ options: [String], hooks: Bool) -> [String] {
        Array(host!.runArguments(options, hooks: hooks).dropFirst())
    }

    private func hook(_ stage: String, stdin: String?, socket: String = "/nonexistent/sidecar.sock") throws -> (CommandResult, Double) {
        let began = Date()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DaemonProcess.sidecarctlPath)
        process.arguments = ["hook", stage, "--socket", socket]
        let input = Pipe()
        let err = Pipe()
        process.standardInput = input
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        }  // else: left open, no EOF ever
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try? input.fileHandleForWriting.close()
        return (CommandResult(status: process.terminationStatus, stdout: "", stderr: message), Date().timeIntervalSince(began))
    }

    func testADamagedDatabaseKeepsTheContainerFromStartingAndAHealthyOneStarts() async throws {
        let (host, _) = try await startWithContainers()
        let db = directory + "/db"
        for name in ["good.db", "bad.db"] {
            let made = try CommandResult.run("/usr/bin/python3", [DatabaseTests.fixture, "healthy", "\(db)/\(name)", "2000"])
            XCTAssertEqual(made.status, 0, made.stderr)
        }
        // A page in the middle of the table's b-tree overwritten with garbage.
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: "\(db)/bad.db"))
        try handle.seek(toOffset: 4096 * 20)
        handle.write(Data((0..<4096).map { _ in UInt8.random(in: 0...255) }))
        try handle.close()
        let mount = ["-v", "\(db):/data", "--annotation"]
        let damaged = try CommandResult.run(
            ContainerHost.podman, containerRun(mount + ["sidecar.check-db=/data/bad.db"], hooks: true) + [ref, "/bin/busybox", "echo", "started"])
        XCTAssertNotEqual(damaged.status, 0)
        XCTAssertFalse(damaged.stdout.contains("started"), "the container never ran")
        XCTAssertTrue(damaged.stderr.contains("CORRUPT: \(db)/bad.db"), "the verdict, for the host path: \(damaged.stderr)")
        XCTAssertTrue(damaged.stderr.contains("remedy: ") && damaged.stderr.contains(".recover"), damaged.stderr)

        let healthy = try CommandResult.run(
            ContainerHost.podman, containerRun(mount + ["sidecar.check-db=/data/good.db"], hooks: true) + [ref, "/bin/busybox", "echo", "started"])
        XCTAssertEqual(healthy.status, 0, healthy.stderr)
        XCTAssertEqual(healthy.stdout, "started\n")
    }

    /// Starts a container (`podman run -d`) whose prestart hook leases the
    /// image for it, and returns that lease.
    /// `sidecar.required=true`: a hook that cannot take the lease fails the
    /// start, and podman's error carries the hook's stderr.
    private func startLeasedContainer(_ name: String, _ client: SidecarClient) async throws -> LeaseRecord {
        let started = try host!.runDetached(
            ["--name", name, "--annotation", "sidecar.lease=agent", "--annotation", "sidecar.required=true", ref, "/bin/busybox", "sleep", "300"],
            hooks: true)
        XCTAssertEqual(started.status, 0, started.stderr)
        let id = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // The prestart hook has run by the time `run -d` returns.
        let lease = try await client.listLeases().first { $0.holder == "container/\(id)" }
        let pid = try host!.pid(ofContainer: name)
        let taken = try XCTUnwrap(lease, "no lease for container \(id); podman said: \(started.stderr); daemon log:\n\(daemon!.log)")
        XCTAssertEqual(taken.target, "agent")
        XCTAssertEqual(taken.holderProcess?.pid, pid, "bound to the container's init process")
        XCTAssertFalse(taken.expiresByTime)
        return taken
    }

    /// Polls (every 10 ms) until the lease is gone from ListLeases; the
    /// seconds since `since`, or nil if it is still held after 10 s.
    private func secondsUntilGone(_ lease: LeaseRecord, _ client: SidecarClient, since: Date) async throws -> Double? {
        let deadline = since.addingTimeInterval(10)
        while Date() < deadline {
            if try await !client.listLeases().contains(where: { $0.id == lease.id }) { return Date().timeIntervalSince(since) }
            try await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// `sidecar_leases_total{event="EVENT"}` now.
    private func leaseCount(_ event: String, _ client: SidecarClient) async throws -> Int {
        try await client.counter("sidecar_leases_total{event=\"\(event)\"}")
    }

    /// The documented install (prestart and poststop): whichever comes
    /// first, the daemon seeing the init process end or the poststop hook
    /// releasing it, the lease is gone within 2 s.
    func testALeaseBoundToTheContainerIsGoneWithinTwoSecondsOfPodmanKill() async throws {
        let (host, client) = try await startWithContainers()
        let lease = try await startLeasedContainer("podman-killed", client)
        let killed = Date()
        let kill = try host.podman(["kill", "-s", "KILL", "podman-killed"])
        XCTAssertEqual(kill.status, 0, kill.stderr)
        let seconds = try await secondsUntilGone(lease, client, since: killed)
        let how = try await "holder_exited \(leaseCount("holder_exited", client)), released \(leaseCount("released", client))"
        let gone = try XCTUnwrap(seconds, "still held 10 s after podman kill (\(how)); daemon log:\n\(daemon!.log)")
        XCTAssertLessThan(gone, 2, how)
        print("podman kill -s KILL: the lease was gone after \(String(format: "%.3f", gone)) s (\(how))")
    }

    /// No poststop hook at all (as when it never runs): only the daemon's
    /// watch of the container's init process can end the lease.
    func testALeaseBoundToTheContainerIsGoneWithinTwoSecondsOfKill9OfItsInitProcess() async throws {
        let (host, client) = try await startWithContainers(hookStages: ["prestart"])
        let lease = try await startLeasedContainer("init-killed", client)
        let pid = try XCTUnwrap(lease.holderProcess?.pid)
        let killed = Date()
        XCTAssertEqual(kill(pid, SIGKILL), 0)
        let seconds = try await secondsUntilGone(lease, client, since: killed)
        let gone = try XCTUnwrap(seconds, "still held 10 s after kill -9 of pid \(pid); daemon log:\n\(daemon!.log)")
        XCTAssertLessThan(gone, 2)
        print("kill -9 of the init process: the lease was gone after \(String(format: "%.3f", gone)) s")
        let ended = try await leaseCount("holder_exited", client)
        let released = try await leaseCount("released", client)
        XCTAssertEqual(ended, 1, "ended by the daemon, its holder process gone")
        XCTAssertEqual(released, 0)
        let exited = try await waitUntil(timeout: 10) { !(try host.podman(["ps", "--format", "{{.Names}}"]).stdout.contains("init-killed")) }
        XCTAssertTrue(exited, "the container ended with its init process")
    }

    func testBadInputGetsAClearMessageAndADocumentedStatusNeverAHang() throws {
        let cases: [(stage: String, stdin: String?, status: Int32, says: String)] = [
            ("prestart", "", 64, "stdin is empty"),
            ("prestart", "not json {", 64, "stdin is not JSON"),
            ("prestart", "[1, 2]", 64, "not an object"),
            ("prestart", "{\"pid\": 1}", 64, "no \"id\""),
            ("launch", "{\"id\": \"x\"}", 64, "unknown stage \"launch\""),
            ("prestart", "{\"id\": \"x\", \"annotations\": {\"sidecar.check-db\": \"relative.db\"}}", 64, "expected absolute paths"),
            ("prestart", "{\"id\": \"x\", \"annotations\": {\"sidecar.required\": \"maybe\"}}", 64, "expected true or false"),
            // The daemon unreachable: the container starts, unless required.
            ("prestart", "{\"id\": \"x\", \"pid\": 1, \"annotations\": {\"sidecar.lease\": \"agent\"}}", 0, "going on without the sidecar"),
            ("prestart", "{\"id\": \"x\", \"pid\": 1, \"annotations\": {\"sidecar.lease\": \"agent\", \"sidecar.required\": \"true\"}}", 69,
             "cannot reach sidecard"),
        ]
        for item in cases {
            let (result, _) = try hook(item.stage, stdin: item.stdin)
            XCTAssertEqual(result.status, item.status, "\(item.stdin ?? "(open)"): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(item.says), "\(item.stdin ?? "(open)"): \(result.stderr)")
        }
        // No annotation of ours: exit 0 at once and silently, the daemon never asked
        // (its socket does not even exist).
        for state in ["{\"id\": \"x\", \"pid\": 1}", "{\"id\": \"x\", \"annotations\": {\"io.podman.annotations.init\": \"FALSE\"}}"] {
            let (result, _) = try hook("prestart", stdin: state)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stderr, "")
        }
        // stdin never closed: a whole object is enough; nothing at all ends at the bound.
        let (whole, wholeSeconds) = try hook("prestart", stdin: nil, socket: "/nonexistent")
        XCTAssertEqual(whole.status, 64, whole.stderr)
        XCTAssertTrue(whole.stderr.contains("no OCI state on stdin within 5 s"), whole.stderr)
        XCTAssertLessThan(wholeSeconds, 8)
    }
}
