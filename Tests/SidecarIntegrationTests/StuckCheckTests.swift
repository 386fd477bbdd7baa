import Foundation
import SidecarClient
import SidecarCore
import XCTest

/// Pool work has a bound the loop enforces: a check stuck on the thread
/// pool (here SQLite waiting out a 10-minute busy_timeout on a file another
/// process holds locked) is answered BUSY at databases.check_timeout, its
/// slot is freed, the pool keeps a thread for the retry ledger, and
/// SIGTERM still ends the daemon.
final class StuckCheckTests: XCTestCase {
    func testAStuckCheckIsAnsweredBusyAndNeitherTheLedgerNorShutdownWaitsForIt() async throws {
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + """
            [databases]
            roots = ["/tmp"]
            busy_timeout = "10m"
            check_timeout = "1s"
            max_concurrent_checks = 1
            """)
        let path = daemon.directory + "/locked.db"
        XCTAssertEqual(try CommandResult.run("/usr/bin/sqlite3", [path, "CREATE TABLE t(x);"]).status, 0)
        let holder = try SQLiteLockHolder(path: path, write: "INSERT INTO t VALUES (1)")
        defer { holder.release() }

        let client = daemon.client()
        for attempt in 1...3 {
            let answer = try await client.checkDb(path: path, timeout: .seconds(20))
            XCTAssertEqual(answer.result.verdict, .busy, "attempt \(attempt)")
            XCTAssertTrue(answer.result.messages.first?.contains("did not finish within databases.check_timeout") == true, "\(answer.result.messages)")
        }
        let started = Date()
        let refused = try await client.checkDb(path: path, timeout: .seconds(20))
        XCTAssertEqual(refused.result.verdict, .busy)
        XCTAssertTrue(refused.result.messages.first?.contains("stuck on the thread pool") == true, "\(refused.result.messages)")
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.9, "three stuck checks: the fourth is refused, not run")

        let grant = try await client.reserveRetrySlot(key: "after-stuck", lastError: "connection reset by peer", timeout: .seconds(10))
        guard case .granted = grant else { return XCTFail("the ledger's commit found no pool thread: \(grant)") }

        daemon.signal(SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while daemon.isRunning && Date() < deadline { usleep(20_000) }
        XCTAssertFalse(daemon.isRunning, "SIGTERM waited on the stuck pool threads")
        XCTAssertTrue(daemon.log.contains("exiting without them"), daemon.log)
    }
}

/// The retry ledger's group commit has a bound too: with the state database
/// locked by another process, the commit waits in SQLite's busy handler
/// (5 s) past retry.commit_timeout (1 s); its caller is answered
/// UNAVAILABLE, changes are refused at once while it runs, and once the
/// lock goes the ledger takes changes again.
final class StuckCommitTests: XCTestCase {
    func testAStuckCommitAnswersUnavailableAndTheLedgerRecovers() async throws {
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + "[retry]\ncommit_timeout = \"1s\"\n")
        let client = daemon.client()
        guard case .granted = try await client.reserveRetrySlot(key: "before", lastError: "connection reset by peer") else {
            return XCTFail("no grant before the lock")
        }
        let holder = try SQLiteLockHolder(
            path: daemon.stateDirectory + "/sidecar.db", write: "INSERT INTO daemon_meta VALUES ('lock-test', 'x')")
        defer { holder.release() }

        let started = Date()
        do {
            let decision = try await client.reserveRetrySlot(key: "during", lastError: "connection reset by peer", timeout: .seconds(20))
            XCTFail("answered \(decision) while its commit could not finish")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .unavailable, error.message)
            XCTAssertTrue(error.message.contains("retry.commit_timeout"), error.message)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 4, "answered at the commit timeout, not at SQLite's 5 s busy timeout")
        do {
            _ = try await client.reserveRetrySlot(key: "while-stuck", lastError: "connection reset by peer", timeout: .seconds(5))
            XCTFail("a change was taken while the commit is stuck")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .unavailable)
            XCTAssertTrue(error.message.contains("nothing is changed until it returns"), error.message)
        }

        holder.release()
        let deadline = Date().addingTimeInterval(15)
        var recovered = false
        while Date() < deadline {
            if case .granted? = try? await client.reserveRetrySlot(key: "after", lastError: "connection reset by peer", timeout: .seconds(5)) {
                recovered = true
                break
            }
            usleep(200_000)
        }
        XCTAssertTrue(recovered, "the ledger never took changes again")
    }
}
