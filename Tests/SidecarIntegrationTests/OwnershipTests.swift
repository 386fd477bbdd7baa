import Foundation
import SidecarClient
import SidecarCore
import XCTest

/// Who may touch what (proto/sidecar/v1/sidecar.proto, "Who may touch
/// what"): non-root callers through a real socket, run with setpriv as
/// other uids, against a daemon whose only admin is root (this test).
final class OwnershipTests: XCTestCase {
    private var daemon: DaemonProcess!

    override func setUpWithError() throws {
        daemon = try DaemonProcess(config: DaemonProcess.baseConfig + """
            socket_mode = "0666"

            [databases]
            roots = ["/tmp"]
            """)
    }

    override func tearDown() {
        daemon = nil
    }

    /// sidecarctl as `uid` (its own group, and `groups` besides).
    private func sidecarctl(as uid: Int, groups: [Int] = [], _ arguments: [String]) throws -> CommandResult {
        let groupList = ([uid] + groups).map(String.init).joined(separator: ",")
        return try CommandResult.run("/usr/bin/setpriv", [
            "--reuid=\(uid)", "--regid=\(uid)", "--groups=\(groupList)", DaemonProcess.sidecarctlPath, "--socket", daemon.socketPath,
        ] + arguments)
    }

    private func keys(_ listing: CommandResult) throws -> [String] {
        let object = try JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as? [String: Any]
        return (object?["retries"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }
    }

    func testARetryKeyIsItsCreatorsAndAnAdminsToo() async throws {
        let granted = try sidecarctl(as: 1000, ["retry", "reserve", "task-a", "--error", "connection reset by peer"])
        XCTAssertEqual(granted.status, 0, granted.stderr)
        let intruder = try sidecarctl(as: 1001, ["retry", "reserve", "task-a", "--error", "connection reset by peer"])
        XCTAssertEqual(intruder.status, 77, "another uid may not take a slot of task-a: \(intruder.stderr)")
        XCTAssertTrue(intruder.stderr.contains("belongs to uid 1000"), intruder.stderr)
        let markFailed = try sidecarctl(as: 1001, ["retry", "done", "task-a", "--failure", "--error", "x"])
        XCTAssertEqual(markFailed.status, 77, markFailed.stderr)
        _ = try sidecarctl(as: 1001, ["retry", "reserve", "task-b", "--error", "connection reset by peer"])

        XCTAssertEqual(try keys(try sidecarctl(as: 1000, ["retry", "list", "--json"])), ["task-a"])
        XCTAssertEqual(try keys(try sidecarctl(as: 1001, ["retry", "list", "--json"])), ["task-b"])
        let all = try await daemon.client().listRetries()
        XCTAssertEqual(all.map(\.key), ["task-a", "task-b"], "root is an admin: it sees every key")
        XCTAssertEqual(all.map(\.ownerUID), [1000, 1001])
        XCTAssertEqual(all.first?.attempts, 1, "the refused reserve took no slot")
    }

    func testALeaseIsReleasedOnlyByItsTakerOrAnAdmin() async throws {
        let taken = try sidecarctl(as: 1000, ["lease", "acquire", "agent-base", "--holder", "runner-1", "--ttl", "10m"])
        XCTAssertEqual(taken.status, 0, taken.stderr)
        let id = taken.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let stolen = try sidecarctl(as: 1001, ["lease", "release", id])
        XCTAssertEqual(stolen.status, 77, stolen.stderr)
        let own = try sidecarctl(as: 1001, ["lease", "acquire", "agent-base", "--holder", "runner-1", "--ttl", "10m"])
        XCTAssertNotEqual(own.stdout, taken.stdout, "the same target and holder from another uid is a lease of its own")
        let listed = try sidecarctl(as: 1001, ["leases", "--json"])
        XCTAssertFalse(listed.stdout.contains(id), listed.stdout)
        let both = try await daemon.client().listLeases()
        XCTAssertEqual(both.count, 2)
        try await daemon.client().releaseLease(id: id)
        let left = try await daemon.client().listLeases()
        XCTAssertEqual(left.map(\.ownerUID), [1001])
    }

    func testCheckDbAnswersOnlyAboutFilesTheCallerCouldRead() throws {
        let folder = daemon.directory + "/dbs"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        chmod(daemon.directory, 0o755)
        chmod(folder, 0o755)
        let path = folder + "/secret.db"
        let made = try CommandResult.run("/usr/bin/sqlite3", [path, "CREATE TABLE t(x); INSERT INTO t VALUES (1);"])
        XCTAssertEqual(made.status, 0, made.stderr)
        chmod(path, 0o600)

        let refused = try sidecarctl(as: 1000, ["check-db", path])
        XCTAssertEqual(refused.status, 77, "uid 1000 learnt something of a 0600 file of root's: \(refused.stdout)")
        XCTAssertTrue(refused.stderr.contains("may not read \(path)"), refused.stderr)
        XCTAssertEqual(try CommandResult.sidecarctl(["--socket", daemon.socketPath, "check-db", path]).status, 0, "root may")

        XCTAssertEqual(chown(path, 0, 4242), 0)
        chmod(path, 0o640)
        XCTAssertEqual(try sidecarctl(as: 1000, groups: [4242], ["check-db", path]).status, 0, "a supplementary group that may read")
        XCTAssertEqual(try sidecarctl(as: 1000, ["check-db", path]).status, 77, "the same uid without the group")

        let acl = try CommandResult.run("/usr/bin/setfacl", ["-m", "u:1000:r", path])
        XCTAssertEqual(acl.status, 0, acl.stderr)
        XCTAssertEqual(try sidecarctl(as: 1000, ["check-db", path]).status, 0, "a named-user ACL entry")
        XCTAssertEqual(try sidecarctl(as: 1001, ["check-db", path]).status, 77)

        chmod(folder, 0o700)
        XCTAssertEqual(try sidecarctl(as: 1000, ["check-db", path]).status, 77, "a folder above it it may not search")
        XCTAssertEqual(try sidecarctl(as: 1000, ["check-db", folder + "/absent.db"]).status, 77, "nor whether a name exists there")
        let report = try sidecarctl(as: 1000, ["report-db-error", path, "--client", "c1", "--error", "database disk image is malformed"])
        XCTAssertEqual(report.status, 77, report.stderr)
    }
}

/// A link to a name that is not UTF-8 is refused, never read as the file
/// whose name is the repaired (U+FFFD) spelling of it.
final class NonUTF8NameTests: XCTestCase {
    func testALinkToANameThatIsNotUTF8NamesNoFile() async throws {
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + "[databases]\nroots = [\"/tmp\"]\n")
        let folder = daemon.directory
        // a\377.db holds garbage; a\u{FFFD}.db, what a String makes of that
        // name, is a healthy database; link.db points at the first.
        let made = try CommandResult.run("/bin/sh", ["-c", """
            cd \(folder) && printf 'not a database' > "$(printf 'a\\377.db')" \
              && sqlite3 "$(printf 'a\\357\\277\\275.db')" 'CREATE TABLE t(x);' \
              && ln -s "$(printf 'a\\377.db')" link.db
            """])
        XCTAssertEqual(made.status, 0, made.stderr)
        do {
            let answer = try await daemon.client().checkDb(path: folder + "/link.db")
            XCTFail("checked a file for a name it cannot hold: \(answer.result.verdict) on \(answer.resolvedPath)")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .invalidArgument, error.message)
            XCTAssertTrue(error.message.contains("not UTF-8"), error.message)
        }
        let healthy = try await daemon.client().checkDb(path: folder + "/a\u{FFFD}.db")
        XCTAssertEqual(healthy.result.verdict, .ok, "the UTF-8 name itself is checked as usual")
    }
}
