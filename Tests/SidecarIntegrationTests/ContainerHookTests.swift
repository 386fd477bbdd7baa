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

    /// A daemon with the databases under `directory/db` and the image built.
    private func startWithContainers() async throws -> (ContainerHost, SidecarClient) {
        try ContainerHost.skipUnlessAvailable()
        let host = try ContainerHost(directory: directory)
        self.host = host
        try FileManager.default.createDirectory(atPath: directory + "/db", withIntermediateDirectories: true)
        let config = host.commandBackendConfig(name: "agent", ref: ref) + "[databases]\nroots = [\"\(directory!)/db\"]\n"
        let started = try DaemonProcess(config: config, directory: directory)
        daemon = started
        let client = started.client()
        _ = try await client.ensureImage("agent", timeout: .seconds(60))
        try host.installHooks(socket: started.socketPath)
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
