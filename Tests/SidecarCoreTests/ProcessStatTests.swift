import Foundation
import SidecarCore
import XCTest

final class ProcessStatTests: XCTestCase {
    func testFieldsAreCountedFromTheLastParenthesisOfTheCommandName() throws {
        // A command name may hold spaces and ")" itself.
        let line = "4121 (a b) c) S 1 4121 4121 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 1000 100 0 0 0 0"
        XCTAssertEqual(ProcessStat.parse(line), ProcessStat(state: "S", startTime: 987_654))
        XCTAssertEqual(ProcessStat.parse(line.replacingOccurrences(of: ") S ", with: ") Z "))?.hasEnded, true)
        XCTAssertNil(ProcessStat.parse("4121 (sh) S 1 2"))
        XCTAssertNil(ProcessStat.parse("garbage"))
    }

    func testThisProcessIsRunningAndAReusedPidIsNotIt() throws {
        let me = try XCTUnwrap(ProcessIdentity.current())
        XCTAssertEqual(me.pid, getpid())
        XCTAssertTrue(me.isRunning)
        XCTAssertFalse(ProcessIdentity(pid: me.pid, startTime: me.startTime + 1).isRunning)
        XCTAssertNil(ProcessIdentity.of(pid: 0))
    }

    func testAnExitedChildNotYetReapedHasEnded() throws {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sleep")
        child.arguments = ["30"]
        try child.run()
        let identity = try XCTUnwrap(ProcessIdentity.of(pid: child.processIdentifier))
        XCTAssertTrue(identity.isRunning)
        kill(child.processIdentifier, SIGKILL)
        // Until it is reaped the pid stays taken, as a zombie: ended all the same.
        let deadline = Date().addingTimeInterval(5)
        while identity.isRunning && Date() < deadline { usleep(5000) }
        XCTAssertFalse(identity.isRunning)
        child.waitUntilExit()
        XCTAssertNil(ProcessIdentity.of(pid: child.processIdentifier))
    }
}
