import SidecarConfig
import SidecarCore
import SidecarDatabases
import XCTest

/// A file system and SQLite in memory: paths resolve at once to what the
/// test put there, and checks end when the test says so.
private final class FakeCheckRunner: DatabaseCheckRunner {
    var files: [String: FileFingerprint] = [:]
    var directories: Set<String> = []
    /// Files only uid 0 may read (mode 0600, owned by root); the rest are 0644.
    var rootOnly: Set<String> = []
    private(set) var started: [DbCheckJob] = []
    private var pending: [(job: DbCheckJob, done: (FileFingerprint?, DbCheckResult) -> Void)] = []

    var runningPaths: [String] { pending.map(\.job.path) }

    func resolve(_ path: String, roots: [String], _ done: @escaping (DatabasePathResolution) -> Void) {
        guard DatabaseRoots(resolvedRoots: roots).contains(resolvedPath: path) else {
            return done(.outside(resolved: path, roots: roots))
        }
        done(.inside(resolved: path, root: "/data", fingerprint: files[path], isDirectory: directories.contains(path), access: access(path)))
    }

    private func access(_ path: String) -> PathAccess {
        let folder = PathAccess.Node(path: "/data", uid: 0, gid: 0, mode: 0o755)
        let file = files[path] == nil ? nil : PathAccess.Node(path: path, uid: 0, gid: 0, mode: rootOnly.contains(path) ? 0o600 : 0o644)
        return PathAccess(folders: [folder], file: file)
    }

    func check(_ job: DbCheckJob, _ done: @escaping (FileFingerprint?, DbCheckResult) -> Void) {
        started.append(job)
        pending.append((job, done))
    }

    /// Ends the oldest running check of `path` with `verdict`.
    func finish(_ path: String, _ verdict: DbVerdict, messages: [String] = []) {
        guard let index = pending.firstIndex(where: { $0.job.path == path }) else { return XCTFail("no check of \(path) runs") }
        let check = pending.remove(at: index)
        check.done(files[path], DbCheckResult(verdict: verdict, messages: messages))
    }

    static func fingerprint(size: Int64, walSize: Int64? = nil) -> FileFingerprint {
        FileFingerprint(
            database: .init(device: 1, inode: 7, size: size, modifiedNanoseconds: 100),
            wal: walSize.map { .init(device: 1, inode: 8, size: $0, modifiedNanoseconds: 200) })
    }
}

final class DatabaseCoordinatorTests: XCTestCase {
    private let runner = FakeCheckRunner()
    private var now = 1_800_000_000.0
    private var events: [DatabaseEvent] = []
    private var outcomes: [String] = []
    private var coordinator: DatabaseCoordinator!

    override func setUp() {
        var settings = DaemonConfig.DatabasesConfig()
        settings.roots = ["/data"]
        settings.maxConcurrentChecks = 2
        settings.streakThreshold = 3
        coordinator = makeCoordinator(settings)
        runner.files["/data/a.db"] = FakeCheckRunner.fingerprint(size: 4096)
        runner.files["/data/b.db"] = FakeCheckRunner.fingerprint(size: 8192)
        runner.files["/data/c.db"] = FakeCheckRunner.fingerprint(size: 1024)
    }

    private func makeCoordinator(_ settings: DaemonConfig.DatabasesConfig) -> DatabaseCoordinator {
        let coordinator = DatabaseCoordinator(
            settings: settings, classifier: ErrorClassifier(configRules: []), runner: runner, clock: { [unowned self] in now })
        coordinator.onEvent = { [unowned self] in events.append($0) }
        coordinator.onCheckOutcome = { [unowned self] in outcomes.append($0) }
        return coordinator
    }

    private func check(
        _ path: String, mode: DbCheckMode = .quick, caller: Caller = .daemon, into answers: Box<[Result<DbCheckAnswer, DatabaseError>]>
    ) {
        coordinator.check(path: path, mode: mode, maxErrors: 0, caller: caller) { answers.value.append($0) }
    }

    private func report(
        _ path: String, client: String = "runner-1", message: String = "database disk image is malformed", ok: Bool = false,
        caller: Caller = .daemon
    ) -> Box<[Result<DbErrorAdvice, DatabaseError>]> {
        let answers = Box<[Result<DbErrorAdvice, DatabaseError>]>([])
        coordinator.report(path: path, clientID: client, message: message, sqliteCode: nil, ok: ok, caller: caller) {
            answers.value.append($0)
        }
        return answers
    }

    private static let alice = Caller(uid: 1000, groups: [1000], isAdmin: false)
    private static let bob = Caller(uid: 1001, groups: [1001], isAdmin: false)

    func testAFileTheCallerCouldNotReadIsRefusedEvenWhenAnotherCallersVerdictIsCached() throws {
        runner.rootOnly = ["/data/a.db"]
        let answers = Box<[Result<DbCheckAnswer, DatabaseError>]>([])
        check("/data/a.db", into: answers)
        runner.finish("/data/a.db", .corrupt)
        check("/data/a.db", caller: Self.alice, into: answers)
        XCTAssertEqual(try answers.value[0].get().result.verdict, .corrupt)
        guard case .failure(.notReadable(let path, let reason)) = answers.value[1] else {
            return XCTFail("uid 1000 heard a verdict on a 0600 file of root's: \(answers.value[1])")
        }
        XCTAssertEqual(path, "/data/a.db")
        XCTAssertTrue(reason.contains("may not read"), reason)
        XCTAssertEqual(runner.started.count, 1)
        check("/data/b.db", caller: Self.alice, into: answers)
        XCTAssertEqual(runner.started.count, 2, "a readable file is checked for anyone")
    }

    func testAnotherUidsReportsNeitherGrowNorResetAStreak() throws {
        for _ in 0..<2 { _ = report("/data/a.db", caller: Self.alice) }
        XCTAssertEqual(try report("/data/a.db", ok: true, caller: Self.bob).value.first?.get().streak, 0)
        XCTAssertEqual(try report("/data/a.db", caller: Self.bob).value.first?.get().streak, 1, "bob's own streak")
        _ = report("/data/a.db", caller: Self.alice)
        XCTAssertEqual(runner.started.count, 1, "alice's third report reached the threshold: the host checks")
        runner.rootOnly = ["/data/c.db"]
        guard case .failure(.notReadable) = report("/data/c.db", caller: Self.alice).value.first else {
            return XCTFail("a report about a file alice may not read is refused")
        }
    }

    func testConcurrentChecksOfOneFileShareOneRun() throws {
        let answers = Box<[Result<DbCheckAnswer, DatabaseError>]>([])
        for _ in 0..<5 { check("/data/a.db", into: answers) }
        XCTAssertEqual(runner.started.count, 1)
        XCTAssertEqual(runner.started.first?.maxErrors, SidecarDefaults.dbCheckMaxErrors)
        XCTAssertTrue(answers.value.isEmpty, "answered before the check ended")
        runner.finish("/data/a.db", .ok)
        let got = try answers.value.map { try $0.get() }
        XCTAssertEqual(got.count, 5)
        XCTAssertEqual(got.map(\.result.verdict), Array(repeating: .ok, count: 5))
        XCTAssertEqual(got.map(\.shared), [false, true, true, true, true])
        XCTAssertEqual(outcomes, ["run", "shared", "shared", "shared", "shared"])
    }

    func testAnUnchangedFileReusesItsResultAndAChangedWALChecksAgain() throws {
        let answers = Box<[Result<DbCheckAnswer, DatabaseError>]>([])
        check("/data/a.db", into: answers)
        runner.finish("/data/a.db", .ok)
        check("/data/a.db", into: answers)
        XCTAssertEqual(runner.started.count, 1, "an unchanged file is not checked again")
        XCTAssertEqual(try answers.value[1].get().reused, true)
        // A quick result does not answer a full check.
        check("/data/a.db", mode: .full, into: answers)
        XCTAssertEqual(runner.started.count, 2)
        runner.finish("/data/a.db", .ok)

        runner.files["/data/a.db"] = FakeCheckRunner.fingerprint(size: 4096, walSize: 512)
        check("/data/a.db", into: answers)
        XCTAssertEqual(runner.started.count, 3, "a WAL that appeared invalidates the result")
        runner.finish("/data/a.db", .corrupt, messages: ["row 3 missing from index i"])
        let last = try answers.value.last!.get()
        XCTAssertEqual(last.result.verdict, .corrupt)
        XCTAssertFalse(last.reused)
        XCTAssertEqual(events.map(\.topic), ["db.corrupt"])
        XCTAssertEqual(events.first?.message, "row 3 missing from index i")
    }

    func testBusyIsNeverReused() throws {
        let answers = Box<[Result<DbCheckAnswer, DatabaseError>]>([])
        check("/data/a.db", into: answers)
        runner.finish("/data/a.db", .busy)
        check("/data/a.db", into: answers)
        XCTAssertEqual(runner.started.count, 2)
    }

    func testChecksPastTheCapWaitTheirTurnInOrder() throws {
        let answers = Box<[Result<DbCheckAnswer, DatabaseError>]>([])
        check("/data/a.db", into: answers)
        check("/data/b.db", into: answers)
        check("/data/c.db", into: answers)
        XCTAssertEqual(runner.runningPaths, ["/data/a.db", "/data/b.db"])
        XCTAssertEqual(coordinator.running, 2)
        runner.finish("/data/b.db", .ok)
        XCTAssertEqual(runner.runningPaths, ["/data/a.db", "/data/c.db"])
        runner.finish("/data/a.db", .ok)
        runner.finish("/data/c.db", .ok)
        XCTAssertEqual(coordinator.running, 0)
        XCTAssertEqual(try answers.value.map { try $0.get().resolvedPath }, ["/data/b.db", "/data/a.db", "/data/c.db"])
    }

    func testPathsOutsideTheRootsMissingFilesAndFoldersAreAnsweredWithoutACheck() throws {
        let answers = Box<[Result<DbCheckAnswer, DatabaseError>]>([])
        check("/etc/shadow", into: answers)
        XCTAssertEqual(answers.value.last, .failure(.outsideRoots(requested: "/etc/shadow", resolved: "/etc/shadow", roots: ["/data"])))
        check("relative.db", into: answers)
        guard case .failure(.invalidArgument) = answers.value.last else { return XCTFail("\(answers.value)") }
        check("/data/gone.db", into: answers)
        XCTAssertEqual(try answers.value.last!.get().result.verdict, .missing)
        runner.directories.insert("/data/a.db")
        check("/data/a.db", into: answers)
        XCTAssertEqual(try answers.value.last!.get().result.verdict, .notADatabase)
        XCTAssertTrue(runner.started.isEmpty)
        XCTAssertEqual(outcomes, ["outside_roots"])
    }

    func testAStreakBelowTheThresholdContinuesAndASuccessResetsIt() throws {
        XCTAssertEqual(try report("/data/a.db").value.first?.get(), DbErrorAdvice(action: .continue, streak: 1, threshold: 3))
        XCTAssertEqual(try report("/data/a.db").value.first?.get().streak, 2)
        XCTAssertEqual(try report("/data/a.db", ok: true).value.first?.get().streak, 0)
        XCTAssertEqual(try report("/data/a.db").value.first?.get().streak, 1)
        // An unrelated error resets it too; another client has its own.
        XCTAssertEqual(try report("/data/a.db", message: "disk I/O error: no space left").value.first?.get().streak, 0)
        XCTAssertEqual(try report("/data/a.db", client: "runner-2").value.first?.get().streak, 1)
        XCTAssertTrue(runner.started.isEmpty, "no check below the threshold")
    }

    func testAtTheThresholdAnIntactFileMeansExit75() throws {
        _ = report("/data/a.db")
        _ = report("/data/a.db")
        let third = report("/data/a.db")
        XCTAssertTrue(third.value.isEmpty, "waits for the host's check")
        runner.finish("/data/a.db", .ok)
        let advice = try XCTUnwrap(third.value.first).get()
        XCTAssertEqual(advice.action, .exitTempfail)
        XCTAssertEqual(advice.verdict, .ok)
        XCTAssertEqual(advice.streak, 3)
        XCTAssertTrue(advice.remedy.contains("Exit 75"), advice.remedy)
        XCTAssertEqual(events.map(\.topic), ["db.torn_view"])
        XCTAssertEqual(events.first?.attributes["client"], "runner-1")
    }

    func testAtTheThresholdADamagedFileMeansRestore() throws {
        _ = report("/data/b.db")
        _ = report("/data/b.db")
        let third = report("/data/b.db")
        runner.finish("/data/b.db", .corrupt, messages: ["Tree 2 page 5 cell 0: invalid page number"])
        let advice = try XCTUnwrap(third.value.first).get()
        XCTAssertEqual(advice.action, .corrupt)
        XCTAssertEqual(advice.verdict, .corrupt)
        XCTAssertTrue(advice.remedy.contains("sqlite3 /data/b.db .recover"), advice.remedy)
        XCTAssertTrue(advice.remedy.contains("invalid page number"), advice.remedy)
    }

    func testAtTheThresholdAFileTheDaemonMayNotReadIsNeverCalledCorrupt() throws {
        _ = report("/data/c.db")
        _ = report("/data/c.db")
        let third = report("/data/c.db")
        runner.finish("/data/c.db", .unreadable, messages: ["sidecard may not read /data/c.db (errno 13)"])
        let advice = try XCTUnwrap(third.value.first).get()
        XCTAssertEqual(advice.action, .continue)
        XCTAssertEqual(advice.verdict, .unreadable)
        XCTAssertEqual(coordinator.cachedResults, 0, "an unreadable file is checked again once readable")
    }

    func testIdleClientsAreForgottenByTheClock() {
        _ = report("/data/a.db")
        XCTAssertEqual(coordinator.trackedStreaks, 1)
        now += 3599
        coordinator.forgetIdleClients()
        XCTAssertEqual(coordinator.trackedStreaks, 1)
        now += 2
        coordinator.forgetIdleClients()
        XCTAssertEqual(coordinator.trackedStreaks, 0)
    }

    func testAReloadDropsReusableResults() throws {
        let answers = Box<[Result<DbCheckAnswer, DatabaseError>]>([])
        check("/data/a.db", into: answers)
        runner.finish("/data/a.db", .ok)
        XCTAssertEqual(coordinator.cachedResults, 1)
        var settings = DaemonConfig.DatabasesConfig()
        settings.roots = ["/data"]
        coordinator.configure(settings, classifier: ErrorClassifier(configRules: []))
        XCTAssertEqual(coordinator.cachedResults, 0)
        check("/data/a.db", into: answers)
        XCTAssertEqual(runner.started.count, 2)
    }
}

/// Answers collected by closures the coordinator keeps.
private final class Box<Value> {
    var value: Value
    init(_ value: Value) { self.value = value }
}
