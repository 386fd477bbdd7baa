import Foundation
import SidecarClient
import XCTest

/// CheckDb and ReportDbError against real SQLite files, really damaged.
final class DatabaseTests: XCTestCase {
    private var root: String!
    private var daemon: DaemonProcess!

    override func setUpWithError() throws {
        let directory = DaemonProcess.makeTemporaryDirectory()
        root = directory + "/data"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        daemon = try DaemonProcess(
            config: DaemonProcess.baseConfig + "[databases]\nroots = [\"\(root!)\"]\n", directory: directory)
    }

    override func tearDown() {
        daemon = nil
    }

    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/sqlite_fixture.py").standardizedFileURL.path

    @discardableResult
    private func makeDatabase(_ name: String, rows: Int = 2000, wal: Bool = false) throws -> String {
        let path = root + "/" + name
        let made = try CommandResult.run("/usr/bin/python3", [Self.fixture, "healthy", path, "\(rows)"] + (wal ? ["--wal"] : []))
        XCTAssertEqual(made.status, 0, made.stderr)
        return path
    }

    private func overwrite(_ path: String, at offset: UInt64, with bytes: [UInt8]) throws {
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: offset)
        handle.write(Data(bytes))
        try handle.close()
    }

    private func verdict(_ path: String) async throws -> DbVerdict {
        try await daemon.client().checkDb(path: path).result.verdict
    }

    private func files(in directory: String) throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: directory))
    }

    func testVerdictsOfReallyDamagedFiles() async throws {
        let healthy = try makeDatabase("healthy.db")
        let before = try files(in: root)
        let healthyVerdict = try await verdict(healthy)
        XCTAssertEqual(healthyVerdict, .ok)

        // A page in the middle of the table's b-tree overwritten with garbage.
        let damagedPage = try makeDatabase("page.db")
        try overwrite(damagedPage, at: 4096 * 20, with: (0..<4096).map { _ in UInt8.random(in: 0...255) })
        let page = try await daemon.client().checkDb(path: damagedPage)
        XCTAssertEqual(page.result.verdict, .corrupt)
        XCTAssertFalse(page.result.messages.isEmpty)

        let truncated = try makeDatabase("truncated.db")
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: truncated))
        try handle.truncate(atOffset: 4096 * 10)
        try handle.close()
        let truncatedVerdict = try await verdict(truncated)
        XCTAssertEqual(truncatedVerdict, .corrupt)

        let header = try makeDatabase("header.db")
        try overwrite(header, at: 0, with: Array("this is not it!!".utf8) + (0..<84).map { _ in 0xAB })
        let headerVerdict = try await verdict(header)
        XCTAssertEqual(headerVerdict, .notADatabase)

        XCTAssertTrue(FileManager.default.createFile(atPath: root + "/empty.db", contents: Data()))
        let emptyVerdict = try await verdict(root + "/empty.db")
        XCTAssertEqual(emptyVerdict, .notADatabase)

        try "name,age\nada,36\n".write(toFile: root + "/text.db", atomically: true, encoding: .utf8)
        let textVerdict = try await verdict(root + "/text.db")
        XCTAssertEqual(textVerdict, .notADatabase)

        // Checking created nothing: no -wal, no -shm, no journal.
        let after = try files(in: root).subtracting(["page.db", "truncated.db", "header.db", "empty.db", "text.db"])
        XCTAssertEqual(after, before)
    }

    func testAWALDatabaseWithADamagedWAL() async throws {
        let path = root + "/wal.db"
        let made = try CommandResult.run("/usr/bin/python3", [Self.fixture, "wal-with-frames", path])
        XCTAssertEqual(made.status, 0, made.stderr)
        let walSize = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? NSNumber).intValue
        XCTAssertGreaterThan(walSize, 32 * 1024, "the WAL holds the committed frames")
        let intact = try await verdict(path)
        XCTAssertEqual(intact, .ok)

        // Garbage in the middle of the WAL's frames: SQLite's frame checksums
        // stop reading there. The verdict must be SQLite's own, read from a
        // copy by the sqlite3 tool.
        try overwrite(path + "-wal", at: UInt64(walSize / 2), with: (0..<512).map { _ in UInt8.random(in: 0...255) })
        let copy = DaemonProcess.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: copy) }
        for suffix in ["", "-wal", "-shm"] {
            try FileManager.default.copyItem(atPath: path + suffix, toPath: copy + "/wal.db" + suffix)
        }
        let truth = try CommandResult.run("/usr/bin/sqlite3", [copy + "/wal.db", "PRAGMA quick_check"])
        let expected: DbVerdict = truth.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "ok" ? .ok : .corrupt
        let damaged = try await verdict(path)
        XCTAssertEqual(damaged, expected, "sqlite3 said: \(truth.stdout) \(truth.stderr)")
    }

    func testADatabaseUnderAnotherProcesssWriteLockIsBusy() async throws {
        let path = try makeDatabase("locked.db", rows: 100)
        let locker = Process()
        locker.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        locker.arguments = [Self.fixture, "lock", path]
        let output = Pipe()
        locker.standardOutput = output
        try locker.run()
        defer {
            // SIGKILL: a child spawned from a test's worker thread inherits
            // its blocked signals, SIGTERM among them.
            kill(locker.processIdentifier, SIGKILL)
            locker.waitUntilExit()
        }
        let line = output.fileHandleForReading.availableData
        XCTAssertEqual(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), "locked")
        let answer = try await daemon.client().checkDb(path: path)
        XCTAssertEqual(answer.result.verdict, .busy)
        let cli = try CommandResult.sidecarctl(["check-db", path, "--socket", daemon.socketPath])
        XCTAssertEqual(cli.status, 75, cli.stdout)
    }

    func testAHealthyFiftyMegabyteDatabaseAndTheLoopStaysResponsive() async throws {
        let path = try makeDatabase("big.db", rows: 50_000)
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber).intValue
        XCTAssertGreaterThan(size, 50_000_000)
        let client = daemon.client()
        let socket = daemon.socketPath
        let check = Task { try await SidecarClient(socketPath: socket).checkDb(path: path, mode: .full) }
        // While the check runs on the thread pool, Health is answered: it
        // sees the check in flight beside itself.
        var sawCheckInFlight = false
        var worstLag = 0.0
        for _ in 0..<500 {
            let health = try await client.health()
            worstLag = max(worstLag, health.loopLagMaxMilliseconds)
            if health.inflightCalls >= 2 { sawCheckInFlight = true }
            if sawCheckInFlight && health.inflightCalls == 1 { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        let answer = try await check.value
        XCTAssertEqual(answer.result.verdict, .ok)
        XCTAssertTrue(sawCheckInFlight, "Health answered while the check was running")
        XCTAssertLessThan(worstLag, 500, "the loop was blocked for \(worstLag) ms")
    }

    func testPathsAreConfinedToTheRoots() async throws {
        let outside = root + "-evil"  // the root-prefix trick: /x/data-evil for root /x/data
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/sub", withIntermediateDirectories: true)
        let secret = outside + "/secret.db"
        let made = try CommandResult.run("/usr/bin/python3", [Self.fixture, "healthy", secret, "10"])
        XCTAssertEqual(made.status, 0)
        try FileManager.default.createSymbolicLink(atPath: root + "/link.db", withDestinationPath: secret)
        let client = daemon.client()
        for path in [secret, root + "/../data-evil/secret.db", root + "/sub/../../data-evil/secret.db", root + "/link.db"] {
            do {
                _ = try await client.checkDb(path: path)
                XCTFail("\(path) must be refused")
            } catch let error as SidecarError {
                XCTAssertEqual(error.code, .permissionDenied, path)
                XCTAssertTrue(error.message.hasPrefix("OUTSIDE_ROOTS"), error.message)
                XCTAssertEqual(error.detail?.category, "outside_roots", path)
                XCTAssertEqual(error.detail?.permanent, true, path)
            }
        }
        let cli = try CommandResult.sidecarctl(["check-db", root + "/link.db", "--socket", daemon.socketPath, "--json"])
        XCTAssertEqual(cli.status, 1)
        XCTAssertTrue(cli.stdout.contains("\"verdict\":\"outside_roots\""), cli.stdout)

        let missing = try await client.checkDb(path: root + "/sub/nothing.db")
        XCTAssertEqual(missing.result.verdict, .missing)
        XCTAssertEqual(missing.resolvedPath, root + "/sub/nothing.db")
        let directory = try await client.checkDb(path: root + "/sub")
        XCTAssertEqual(directory.result.verdict, .notADatabase)
        do {
            _ = try await client.checkDb(path: "relative/x.db")
            XCTFail("a relative path must be refused")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .invalidArgument)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/sub/nothing.db"), "checking never creates the file")
    }

    func testFiftyConcurrentChecksOfOneFileRunOnce() async throws {
        let path = try makeDatabase("shared.db", rows: 20_000)
        let socket = daemon.socketPath
        let answers = try await withThrowingTaskGroup(of: CheckDbResponse.self) { group in
            let client = SidecarClient(socketPath: socket)
            for _ in 0..<50 {
                group.addTask { try await client.checkDb(path: path, mode: .full) }
            }
            var all: [CheckDbResponse] = []
            for try await answer in group { all.append(answer) }
            return all
        }
        XCTAssertEqual(answers.count, 50)
        XCTAssertTrue(answers.allSatisfy { $0.result.verdict == .ok })
        XCTAssertEqual(answers.filter { !$0.shared && !$0.reused }.count, 1, "one call ran the check")
        let metrics = try await daemon.client().metrics()
        XCTAssertTrue(metrics.contains("sidecar_db_checks_total{outcome=\"run\"} 1\n"), metrics)

        // Unchanged, the result is reused; changed, it is checked again.
        let again = try await daemon.client().checkDb(path: path, mode: .full)
        XCTAssertTrue(again.reused)
        let rewrite = try CommandResult.run("/usr/bin/sqlite3", [path, "UPDATE items SET name = 'x' WHERE id = 1"])
        XCTAssertEqual(rewrite.status, 0, rewrite.stderr)
        let afterChange = try await daemon.client().checkDb(path: path, mode: .full)
        XCTAssertFalse(afterChange.reused)
    }

    func testTheStreakDecidesBetweenRespawnAndRestore() async throws {
        let healthy = try makeDatabase("inbound.db", rows: 100)
        let damaged = try makeDatabase("outbound.db", rows: 2000)
        try overwrite(damaged, at: 4096 * 20, with: (0..<4096).map { _ in UInt8.random(in: 0...255) })
        let client = daemon.client()
        func report(_ path: String, _ message: String = "database disk image is malformed") async throws -> ReportDbErrorResponse {
            try await client.reportDbError(path: path, clientID: "runner-7", message: message)
        }
        for streak in 1...9 {
            let answer = try await report(healthy)
            XCTAssertEqual(answer.action, .continue)
            XCTAssertEqual(answer.streak, UInt32(streak))
        }
        let tenth = try await report(healthy)
        XCTAssertEqual(tenth.action, .exitTempfail)
        XCTAssertEqual(tenth.verdict, .ok)
        XCTAssertTrue(tenth.remedy.contains("Exit 75"), tenth.remedy)

        for _ in 1...9 { _ = try await client.reportDbError(path: damaged, clientID: "runner-7", sqliteCode: 11) }
        let corrupt = try await client.reportDbError(path: damaged, clientID: "runner-7", sqliteCode: 11)
        XCTAssertEqual(corrupt.action, .corrupt)
        XCTAssertEqual(corrupt.verdict, .corrupt)
        XCTAssertTrue(corrupt.remedy.contains(".recover"), corrupt.remedy)

        // A success, or an unrelated error, in between resets the streak.
        let other = "runner-8"
        for _ in 1...5 { _ = try await client.reportDbError(path: healthy, clientID: other, message: "file is not a database") }
        _ = try await client.reportDbError(path: healthy, clientID: other, ok: true)
        for _ in 1...5 { _ = try await client.reportDbError(path: healthy, clientID: other, message: "database disk image is malformed") }
        let unrelated = try await client.reportDbError(path: healthy, clientID: other, message: "no such table: messages")
        XCTAssertEqual(unrelated.streak, 0)
        for _ in 1...9 { _ = try await client.reportDbError(path: healthy, clientID: other, sqliteCode: 267) }
        let ninth = try await client.reportDbError(path: healthy, clientID: other, message: "database disk image is malformed")
        XCTAssertEqual(ninth.action, .exitTempfail, "the 10th in a row since the reset")

        let cliContinue = try CommandResult.sidecarctl([
            "report-db-error", healthy, "--client", "runner-9", "--error", "database disk image is malformed", "--socket", daemon.socketPath,
        ])
        XCTAssertEqual(cliContinue.status, 0)
        let cliCorrupt = try CommandResult.sidecarctl([
            "report-db-error", damaged, "--client", "runner-7", "--sqlite-code", "11", "--socket", daemon.socketPath,
        ])
        XCTAssertEqual(cliCorrupt.status, 65, cliCorrupt.stdout)
    }

    /// A file the daemon may not read is UNREADABLE (with the errno), never
    /// MISSING, and a streak of corruption reports on it never ends in
    /// CORRUPT: the client is not told to restore a database only because
    /// the daemon cannot read it.
    func testAFileTheDaemonMayNotReadIsUnreadableNeverCorrupt() async throws {
        let directory = DaemonProcess.makeTemporaryDirectory()
        let data = directory + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        chmod(data, 0o755)
        let daemon = try DaemonProcess(
            config: DaemonProcess.baseConfig + "[databases]\nroots = [\"\(data)\"]\nstreak_threshold = 2\n",
            directory: directory, asNobody: true)
        let secret = data + "/secret.db"
        let made = try CommandResult.run("/usr/bin/python3", [Self.fixture, "healthy", secret, "10"])
        XCTAssertEqual(made.status, 0, made.stderr)
        chmod(secret, 0o600)
        let client = daemon.client()
        let answer = try await client.checkDb(path: secret)
        XCTAssertEqual(answer.result.verdict, .unreadable)
        XCTAssertTrue(answer.result.messages.first?.contains("errno 13") ?? false, "\(answer.result.messages)")
        var last: ReportDbErrorResponse?
        for _ in 0..<3 {
            last = try await client.reportDbError(path: secret, clientID: "runner-1", message: "database disk image is malformed")
        }
        XCTAssertEqual(last?.action, .continue)
        XCTAssertEqual(last?.verdict, .unreadable)
        XCTAssertTrue(last?.remedy.contains("read access") ?? false, last?.remedy ?? "")
        let cli = try CommandResult.sidecarctl(["check-db", secret, "--socket", daemon.socketPath])
        XCTAssertEqual(cli.status, 77, cli.stdout + cli.stderr)
    }
}
