import Foundation
import SidecarClient
import XCTest

/// Leases bound to a process (issue 17) on the real daemon: they end when
/// the process does, zombie or reaped, with a pidfd or by polling, and a
/// restart ends those whose process ended while the daemon was down.
final class LeaseHolderTests: XCTestCase {
    private var daemon: DaemonProcess?

    override func tearDown() {
        daemon = nil
    }

    private func start(holderWatch: String? = nil, directory: String? = nil) throws -> SidecarClient {
        var config = DaemonProcess.baseConfig
        if let holderWatch { config += "[leases]\nholder_watch = \"\(holderWatch)\"\n" }
        let started = try DaemonProcess(config: config, directory: directory)
        daemon = started
        return started.client()
    }

    /// Kills the holder and measures how long the daemon takes to end its lease.
    private func secondsUntilTheLeaseEnds(after holder: OrphanedProcess, _ client: SidecarClient, id: String) async throws -> Double {
        let events = client.watch(topics: ["lease.holder_exited"], timeout: .seconds(10))
        let heard = Task { () -> SidecarEvent? in
            do {
                for try await event in events { return event }
            } catch {}
            return nil
        }
        try await waitForWatchers(client)
        let killed = Date()
        holder.kill()
        let event = await value(of: heard, within: 10)
        let seconds = Date().timeIntervalSince(killed)
        XCTAssertEqual(event?.attributes["id"], id)
        XCTAssertEqual(event?.attributes["holder_pid"], String(holder.identity.pid))
        XCTAssertEqual(holder.state, "Z", "the holder is a zombie: its pid is still taken, yet it has ended")
        let left = try await client.listLeases()
        XCTAssertFalse(left.contains { $0.id == id })
        return seconds
    }

    func testALeaseEndsWithinTwoSecondsOfItsHolderBeingKilledWithAPidfd() async throws {
        let client = try start()
        let holder = try OrphanedProcess()
        let lease = try await client.acquireLease(target: "agent", holder: "container/a", ttlSeconds: 0, holderProcess: holder.identity)
        XCTAssertEqual(lease.holderProcess, holder.identity)
        XCTAssertFalse(lease.expiresByTime, "no ttl: it holds as long as the process lives")
        XCTAssertTrue(daemon!.log.contains("lease holder processes: a pidfd each"), daemon!.log)
        let seconds = try await secondsUntilTheLeaseEnds(after: holder, client, id: lease.id)
        XCTAssertLessThan(seconds, 2)
    }

    func testALeaseEndsWithinTwoSecondsOfItsHolderBeingKilledByPolling() async throws {
        let client = try start(holderWatch: "poll")
        let holder = try OrphanedProcess()
        let lease = try await client.acquireLease(target: "agent", holder: "container/b", ttlSeconds: 0, holderProcess: holder.identity)
        XCTAssertTrue(daemon!.log.contains("lease holder processes: /proc checked every 500 ms"), daemon!.log)
        let seconds = try await secondsUntilTheLeaseEnds(after: holder, client, id: lease.id)
        XCTAssertLessThan(seconds, 2)
    }

    func testARestartEndsTheLeasesOfHoldersThatEndedMeanwhileAndWatchesTheOthers() async throws {
        let directory = DaemonProcess.makeTemporaryDirectory()
        var client = try start(directory: directory)
        let gone = try OrphanedProcess()
        let alive = try OrphanedProcess()
        let goneLease = try await client.acquireLease(target: "agent", holder: "run/1", ttlSeconds: 0, holderProcess: gone.identity)
        let aliveLease = try await client.acquireLease(target: "agent", holder: "run/2", ttlSeconds: 0, holderProcess: alive.identity)
        // Kept until the end: a DaemonProcess removes its folder when it goes.
        let first = daemon
        first?.stop()
        gone.kill()

        client = try start(directory: directory)
        let restored = try await client.listLeases()
        XCTAssertEqual(restored.map(\.id), [aliveLease.id], "the lease of a holder that ended while the daemon was down is gone")
        XCTAssertEqual(restored.first?.holderProcess, alive.identity)
        XCTAssertNotEqual(goneLease.id, aliveLease.id)
        let seconds = try await secondsUntilTheLeaseEnds(after: alive, client, id: aliveLease.id)
        XCTAssertLessThan(seconds, 2, "the restored lease is watched again")
        XCTAssertNotNil(first)
    }

    func testAHolderThatIsNotRunningOrHasNoStartTimeIsRefused() async throws {
        let client = try start()
        let holder = try OrphanedProcess()
        let reused = ProcessIdentity(pid: holder.identity.pid, startTime: holder.identity.startTime + 1)
        do {
            _ = try await client.acquireLease(target: "agent", holder: "h", ttlSeconds: 0, holderProcess: reused)
            XCTFail("a pid with another start time is another process")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .failedPrecondition, error.message)
        }
        for (process, ttl) in [(ProcessIdentity(pid: holder.identity.pid, startTime: 0), UInt32(0)), (nil, 0)] {
            do {
                _ = try await client.acquireLease(target: "agent", holder: "h", ttlSeconds: ttl, holderProcess: process)
                XCTFail("\(String(describing: process)), ttl \(ttl)")
            } catch let error as SidecarError {
                XCTAssertEqual(error.code, .invalidArgument, error.message)
            }
        }
        let left = try await client.listLeases()
        XCTAssertEqual(left, [])
    }
}
