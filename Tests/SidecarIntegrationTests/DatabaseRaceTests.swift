import Foundation
import SidecarClient
import XCTest

/// CheckDb while a hostile client swaps paths under it: the file checked is
/// the file read, never one outside the roots, and nothing it is handed can
/// hold a thread. Each race runs for ten seconds and counts what escaped.
final class DatabaseRaceTests: XCTestCase {
    static let swapper = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/path_swapper.py").standardizedFileURL.path
    static let raceSeconds = 10.0

    private var directory: String!
    private var root: String!
    private var daemon: DaemonProcess!

    override func setUpWithError() throws {
        directory = DaemonProcess.makeTemporaryDirectory()
        root = directory + "/data"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        daemon = try DaemonProcess(
            config: DaemonProcess.baseConfig + "[databases]\nroots = [\"\(root!)\"]\nmax_concurrent_checks = 4\n",
            directory: directory)
    }

    override func tearDown() {
        daemon = nil
    }

    private func makeDatabase(_ path: String) throws {
        let made = try CommandResult.run("/usr/bin/python3", [DatabaseTests.fixture, "healthy", path, "50"])
        XCTAssertEqual(made.status, 0, made.stderr)
    }

    private func startSwapper(_ a: String, _ b: String, touching: [String]) throws -> Process {
        let swapper = Process()
        swapper.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        swapper.arguments = [Self.swapper, "\(Self.raceSeconds)", a, b] + touching
        swapper.standardOutput = FileHandle.nullDevice
        try swapper.run()
        return swapper
    }

    /// Asks CheckDb for `path` from four callers until the swapper ends;
    /// returns every verdict or error seen, counted.
    private func hammer(_ path: String, while swapper: Process) async -> [String: Int] {
        let client = daemon.client()
        return await withTaskGroup(of: [String: Int].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var seen: [String: Int] = [:]
                    while swapper.isRunning {
                        do {
                            let answer = try await client.checkDb(path: path, timeout: .seconds(3))
                            seen[answer.result.verdict.rawValue, default: 0] += 1
                        } catch let error as SidecarError {
                            seen[error.detail?.category ?? error.code.name, default: 0] += 1
                        } catch {
                            seen["\(error)", default: 0] += 1
                        }
                    }
                    return seen
                }
            }
            var all: [String: Int] = [:]
            for await seen in group { all.merge(seen, uniquingKeysWith: +) }
            print("\(path) under the swapper: \(all.sorted { $0.key < $1.key })")
            return all
        }
    }

    /// A folder inside the root swapped with a symlink to a folder outside:
    /// the outside file is not a database, so any `not_a_database` is a
    /// verdict on a file outside the roots.
    func testAFolderSwappedForALinkOutsideNeverLeadsOutside() async throws {
        let inside = root + "/tenant"
        let outside = directory + "/outside"
        try FileManager.default.createDirectory(atPath: inside, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try makeDatabase(inside + "/app.db")
        try "not a database, and outside the roots\n".write(toFile: outside + "/app.db", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/swap", withDestinationPath: outside)

        let swapper = try startSwapper(inside, root + "/swap", touching: [inside + "/app.db", outside + "/app.db"])
        let seen = await hammer(inside + "/app.db", while: swapper)
        swapper.waitUntilExit()
        XCTAssertEqual(swapper.terminationStatus, 0)
        XCTAssertNil(seen[DbVerdict.notADatabase.rawValue], "verdicts on the file outside the roots: \(seen)")
        XCTAssertNil(seen[StatusCode.deadlineExceeded.name], "\(seen)")
        XCTAssertGreaterThan(seen[DbVerdict.ok.rawValue] ?? 0, 0, "the file inside was checked too: \(seen)")
    }

    /// A database swapped with a FIFO beside it: nothing may block on the
    /// FIFO, so every call answers in time and the daemon still serves its
    /// other work (group commits use the same thread pool) and exits.
    func testAFIFOSwappedInHoldsNoThread() async throws {
        let folder = root + "/tenant"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try makeDatabase(folder + "/app.db")
        XCTAssertEqual(mkfifo(folder + "/pipe", 0o644), 0)

        let swapper = try startSwapper(folder + "/app.db", folder + "/pipe", touching: [folder + "/app.db"])
        let seen = await hammer(folder + "/app.db", while: swapper)
        swapper.waitUntilExit()
        XCTAssertEqual(swapper.terminationStatus, 0)
        XCTAssertNil(seen[StatusCode.deadlineExceeded.name], "checks stuck on the FIFO: \(seen)")
        XCTAssertGreaterThan(seen[DbVerdict.ok.rawValue] ?? 0, 0, "\(seen)")

        // The pool is free: a durable grant (a group commit on the pool)
        // and a fresh check answer at once.
        let client = daemon.client()
        let decision = try await client.reserveRetrySlot(key: "after-the-race", lastError: "connection reset", timeout: .seconds(3))
        guard case .granted = decision else { return XCTFail("\(decision)") }
        let verdict = try await client.checkDb(path: folder + "/app.db", mode: .full, timeout: .seconds(3)).result.verdict
        XCTAssertTrue([.ok, .notADatabase].contains(verdict), "\(verdict)")
        // And SIGTERM still ends it.
        let pid = daemon.pid
        XCTAssertEqual(kill(pid, SIGTERM), 0)
        let exited = try await waitUntil(timeout: 10) { !self.daemon.isRunning }
        XCTAssertTrue(exited, "sidecard did not exit after SIGTERM")
    }
}
