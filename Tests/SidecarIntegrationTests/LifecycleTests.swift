import Foundation
import SidecarClient
import SidecarCore
import SidecarStore
import SidecarWire
import XCTest

/// Start, stop, reload and the socket file: what an operator does to the daemon.
final class LifecycleTests: XCTestCase {
    func testSigtermDrainsCallsInFlightAndExitsZero() throws {
        let daemon = try DaemonProcess()
        let connection = try RawConnection.greeted(socketPath: daemon.socketPath)
        for id in 1...5 {
            connection.send(.call(id: UInt64(id), method: "Debug.Sleep", payload: SleepRequest(milliseconds: 700).wireBytes()))
        }
        connection.send(.call(id: 6, method: "Health", payload: []))
        let health = try HealthResponse(wireBytes: try connection.readFrame().payload)
        XCTAssertEqual(health.inflightCalls, 6, "five sleeps and the Health call")
        daemon.signal(SIGTERM)
        // While draining, new calls on the open connection are refused...
        XCTAssertTrue(DaemonProcess.eventually { !FileManager.default.fileExists(atPath: daemon.socketPath) },
            "the socket file goes as soon as the drain starts")
        connection.send(.call(id: 7, method: "Health", payload: []))
        let refused = try connection.readFrame()
        XCTAssertEqual(refused.callID, 7)
        XCTAssertEqual(refused.statusCode, .unavailable)
        // ...and the calls in flight still finish.
        let finished = try (0..<5).map { _ in try connection.readFrame() }
        XCTAssertEqual(Set(finished.map(\.callID)), [1, 2, 3, 4, 5])
        XCTAssertTrue(finished.allSatisfy { $0.statusCode == .ok }, "\(finished.map(\.statusMessage))")
        let goAway = try connection.readFrame()
        XCTAssertEqual(goAway.kind, .goAway)
        XCTAssertEqual(goAway.statusCode, .unavailable)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.log)
        XCTAssertTrue(daemon.log.contains("SIGTERM: shutting down"))
        XCTAssertTrue(daemon.log.contains("sidecard stopped"))
    }

    func testDrainTimeoutCutsCallsThatWillNotFinish() throws {
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + "[limits]\ndrain_timeout = \"300ms\"\n")
        let connection = try RawConnection.greeted(socketPath: daemon.socketPath)
        connection.send(.call(id: 1, method: "Debug.Sleep", payload: SleepRequest(milliseconds: 60_000).wireBytes()))
        connection.send(.call(id: 2, method: "Health", payload: []))
        XCTAssertEqual(try connection.readFrame().callID, 2)
        daemon.signal(SIGTERM)
        let cut = try connection.readFrame(timeout: 5)
        XCTAssertEqual(cut.callID, 1)
        XCTAssertEqual(cut.statusCode, .unavailable)
        XCTAssertTrue(cut.statusMessage.contains("drain timeout"))
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.log)
    }

    func testWatchersAreToldOfTheShutdown() async throws {
        let daemon = try DaemonProcess()
        let client = daemon.client()
        let stream = client.watch()
        let ending = Task { () -> SidecarError? in
            do {
                for try await _ in stream {}
                return nil
            } catch {
                return error as? SidecarError
            }
        }
        let watching = try await waitUntil { try await client.metrics().contains("sidecar_watchers 1") }
        XCTAssertTrue(watching)
        daemon.signal(SIGTERM)
        let error = await value(of: ending, within: 10)
        XCTAssertEqual(error?.code, .unavailable)
        XCTAssertEqual(daemon.waitForExit(), 0)
    }

    func testASecondDaemonOnTheSameSocketRefusesToStart() throws {
        let first = try DaemonProcess()
        // Same socket as the first; its own state folder.
        let clash = try CommandResult.run(DaemonProcess.sidecardPath, [
            "--socket", first.socketPath, "--state-dir", first.directory + "/other-state",
        ])
        XCTAssertEqual(clash.status, 1)
        XCTAssertTrue(clash.stderr.contains("another sidecard"), clash.stderr)
        XCTAssertTrue(clash.stderr.contains(first.socketPath), clash.stderr)
        let raw = try RawConnection.greeted(socketPath: first.socketPath)
        raw.send(.call(id: 1, method: "Health", payload: []))
        XCTAssertEqual(try raw.readFrame().statusCode, .ok, "the first daemon still serves")
    }

    func testAStaleSocketFileIsReplaced() throws {
        let directory = DaemonProcess.makeTemporaryDirectory()
        let path = directory + "/sidecar.sock"
        // A socket file nobody listens on, as a crashed daemon leaves it.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = try XCTUnwrap(UnixSocketAddress.make(path))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0)
        close(fd)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        XCTAssertThrowsError(try RawConnection(socketPath: path), "nobody answers on the stale file")

        let daemon = try DaemonProcess(directory: directory)
        let raw = try RawConnection.greeted(socketPath: daemon.socketPath)
        raw.send(.call(id: 1, method: "Health", payload: []))
        XCTAssertEqual(try raw.readFrame().statusCode, .ok)
    }

    func testAFileThatIsNotASocketIsNeverReplaced() throws {
        let directory = DaemonProcess.makeTemporaryDirectory()
        try "precious".write(toFile: directory + "/sidecar.sock", atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(directory: directory, waitUntilReady: false)
        XCTAssertEqual(daemon.waitForExit(), 1)
        XCTAssertTrue(daemon.log.contains("is not a socket"), daemon.log)
        XCTAssertEqual(try String(contentsOfFile: directory + "/sidecar.sock", encoding: .utf8), "precious")
    }

    func testTheSocketIsCreatedWithMode0660() throws {
        let daemon = try DaemonProcess()
        let attributes = try FileManager.default.attributesOfItem(atPath: daemon.socketPath)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o660)
    }

    func testABadConfigExits78NamingFileKeyAndReason() throws {
        let directory = DaemonProcess.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = directory + "/bad.toml"
        try "[limits]\nmax_connections = -3\n".write(toFile: config, atomically: true, encoding: .utf8)
        let result = try CommandResult.run(DaemonProcess.sidecardPath, [
            "--config", config, "--socket", directory + "/s.sock", "--state-dir", directory + "/state",
        ])
        XCTAssertEqual(result.status, 78)
        XCTAssertTrue(result.stderr.contains(config), result.stderr)
        XCTAssertTrue(result.stderr.contains("limits.max_connections"), result.stderr)
        XCTAssertTrue(result.stderr.contains("between 1 and"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/s.sock"))

        let badFlag = try CommandResult.run(DaemonProcess.sidecardPath, [
            "--socket", directory + "/s.sock", "--state-dir", directory + "/state", "--log-level", "loud",
        ])
        XCTAssertEqual(badFlag.status, 78)
        XCTAssertTrue(badFlag.stderr.contains("--log-level"), badFlag.stderr)
    }

    func testSighupReloadsAGoodConfigAndKeepsTheOldOneOnABadOne() async throws {
        let daemon = try DaemonProcess()
        let client = daemon.client()
        let rule = "\n[[classify.rule]]\nmatch = \"flux capacitor\"\ncategory = \"time_travel\"\npermanent = true\n"
        try (DaemonProcess.baseConfig + rule).write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        let applied = try await waitUntil {
            try await client.classify(FailureReport(message: "Flux capacitor overheated")).category == "time_travel"
        }
        XCTAssertTrue(applied, daemon.log)

        try "[limits\nbroken".write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        let logged = DaemonProcess.eventually { daemon.log.contains("config reload rejected") }
        XCTAssertTrue(logged, daemon.log)
        XCTAssertTrue(daemon.log.contains(daemon.configPath))
        let stillApplied = try await client.classify(FailureReport(message: "flux capacitor")).category
        XCTAssertEqual(stillApplied, "time_travel", "the running config stays")
        do {
            _ = try await client.reload()
            XCTFail("Reload of a broken file must fail")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .invalidArgument)
            XCTAssertTrue(error.message.contains("line"), error.message)
        }
        let metrics = try await client.metrics()
        XCTAssertTrue(metrics.contains("sidecar_config_reloads_total{result=\"rejected\"} 2"), metrics)
        XCTAssertTrue(daemon.isRunning)
    }

    func testReloadIsForAdminsOnly() async throws {
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + "admin_uids = [4242]\n")
        do {
            _ = try await daemon.client().reload()
            XCTFail("uid \(getuid()) is not an admin here")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .permissionDenied)
            XCTAssertTrue(error.message.contains("admin"), error.message)
        }
        let cli = try CommandResult.sidecarctl(["--socket", daemon.socketPath, "reload"])
        XCTAssertEqual(cli.status, 77, cli.stderr)
    }

    /// `admin_gids` counts every group of the peer, not only its primary one:
    /// a caller whose supplementary group is listed is an admin, the same
    /// caller without that group is not.
    func testASupplementaryGroupInAdminGidsMakesAnAdmin() throws {
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + "admin_uids = []\nadmin_gids = [4242]\nsocket_mode = \"0666\"\n")
        func reload(groups: String) throws -> CommandResult {
            try CommandResult.run("/usr/bin/setpriv", [
                "--reuid=65534", "--regid=65534", "--groups=\(groups)", DaemonProcess.sidecarctlPath, "--socket", daemon.socketPath,
                "reload",
            ])
        }
        let withGroup = try reload(groups: "4141,4242")
        XCTAssertEqual(withGroup.status, 0, withGroup.stderr)
        let without = try reload(groups: "4141")
        XCTAssertEqual(without.status, 77, without.stderr)
    }

    func testTheStateDatabaseIsCreatedAndMigrated() throws {
        let daemon = try DaemonProcess()
        XCTAssertTrue(FileManager.default.fileExists(atPath: daemon.stateDirectory + "/sidecar.db"))
        let query = try CommandResult.run("/usr/bin/sqlite3", [
            daemon.stateDirectory + "/sidecar.db", "PRAGMA journal_mode; SELECT MAX(version) FROM schema_migrations;",
        ])
        let newest = StateSchema.migrations.map(\.version).max() ?? 0
        XCTAssertEqual(query.stdout.split(separator: "\n"), ["wal", "\(newest)"], query.stderr)
    }
}

/// systemd socket activation: the socket is bound by someone else and
/// handed over as fd 3.
final class SocketActivationTests: XCTestCase {
    func testAnInheritedListeningSocketIsServedAndLeftInPlace() throws {
        let directory = DaemonProcess.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/activated.sock"
        let wrapper = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/socket_activate.py").standardizedFileURL.path
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        daemon.arguments = [
            wrapper, socket, DaemonProcess.sidecardPath, "--socket", socket, "--state-dir", directory + "/state",
        ]
        let log = directory + "/log"
        XCTAssertTrue(FileManager.default.createFile(atPath: log, contents: nil))
        daemon.standardError = FileHandle(forWritingAtPath: log)
        try daemon.run()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }

        let answered = DaemonProcess.eventually(timeout: 10) {
            guard let connection = try? RawConnection.greeted(socketPath: socket) else { return false }
            connection.send(.call(id: 1, method: "Health", payload: []))
            return (try? connection.readFrame().statusCode) == .ok
        }
        let text = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        XCTAssertTrue(answered, text())
        XCTAssertTrue(text().contains("(socket from systemd)"), text())
        XCTAssertFalse(FileManager.default.fileExists(atPath: socket + ".lock"), "systemd owns the socket: no claim")

        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        XCTAssertEqual(daemon.terminationStatus, 0, text())
        XCTAssertTrue(FileManager.default.fileExists(atPath: socket), "the socket file is systemd's to remove")
    }
}
