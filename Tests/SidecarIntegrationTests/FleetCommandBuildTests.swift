import Foundation
import SidecarClient
import SidecarCore
import SidecarTestSupport
import XCTest

/// Fleet builds with `images.backend = "command"` and an `images.command.push`
/// template: two real `sidecard`s on one real PostgreSQL, each with its own
/// store of the test fixture (an image is a file), and a folder standing in
/// for the registry (the fixture's push and fetch). What is tested is the
/// daemon's side: the push template's `{target}` and `{digestfile}`, the
/// digest it reports, and the waiters' pull of `{source}` by digest.
final class FleetCommandBuildTests: XCTestCase {
    private var postgres: PostgresService!
    private var shared = ""

    override func setUpWithError() throws {
        guard PostgresService.isInstalled else { throw XCTSkip("PostgreSQL is not installed") }
        postgres = try PostgresService()
        shared = DaemonProcess.makeTemporaryDirectory()
    }

    override func tearDown() {
        postgres = nil
        try? FileManager.default.removeItem(atPath: shared)
    }

    private static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/image_store.sh").standardizedFileURL.path

    private func host(_ name: String) throws -> DaemonProcess {
        let store = shared + "/store-" + name
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        try "0.5\n".write(toFile: store + "/agent.delay", atomically: true, encoding: .utf8)
        let fixture = Self.fixture
        let daemon = try DaemonProcess(
            config: DaemonProcess.baseConfig + """
                [images]
                backend = "command"

                [images.command]
                exists = ["\(fixture)", "exists", "\(store)", "{name}"]
                remove = ["\(fixture)", "remove", "\(store)", "{name}"]
                pull = ["\(fixture)", "fetch", "\(store)", "{name}", "{source}"]
                push = ["\(fixture)", "push", "\(store)", "{name}", "{target}", "{digestfile}"]

                [[images.image]]
                name = "agent"
                ref = "agent:1"
                build = ["\(fixture)", "build", "@env", "{name}"]

                [fleet]
                postgres = "\(postgres.connectionString)"
                host_id = "\(name)"
                registry = "\(shared)/registry"

                """,
            environment: ["FLEET_STORE": store])
        XCTAssertTrue(try DaemonProcess.eventually(timeout: 10) {
            try CommandResult.sidecarctl(["fleet", "status", "--socket", daemon.socketPath]).status == 0
        }, "host \(name) never connected; log:\n\(daemon.log)")
        return daemon
    }

    private func builds(_ name: String) -> Int {
        let log = (try? String(contentsOfFile: shared + "/store-\(name)/builds.log", encoding: .utf8)) ?? ""
        return log.split(separator: "\n").filter { $0 == "start agent" }.count
    }

    func testThePushTemplatePublishesAndTheOtherHostFetchesByDigest() async throws {
        let hosts = [try host("a"), try host("b")]
        let clients = hosts.map { $0.client() }
        let answers = try await withThrowingTaskGroup(of: (Int, EnsureImageAnswer).self) { group in
            for call in 0..<20 {
                let client = clients[call % 2]
                group.addTask { (call % 2, try await client.ensureImage("agent", timeout: .seconds(60))) }
            }
            var answers: [(Int, EnsureImageAnswer)] = []
            for try await answer in group { answers.append(answer) }
            return answers
        }
        XCTAssertEqual(answers.count, 20)
        XCTAssertEqual(builds("a") + builds("b"), 1, "one build in the fleet")
        let builder = builds("a") == 1 ? "a" : "b", other = builder == "a" ? "b" : "a"
        let row: [String] = try XCTUnwrap(try postgres.query("SELECT state, epoch, claimed_by, digest, published_ref FROM sidecar_builds").first)
        XCTAssertEqual(Array(row.prefix(3)), ["published", "1", builder])
        let digest = row[3]
        XCTAssertEqual(row[4], "\(shared)/registry/fleet/agent@\(digest)")
        for (index, answer) in answers {
            XCTAssertEqual(answer.outcome, ["a", "b"][index] == builder ? .built : .pulled, "\(answer)")
        }
        // The other host's image is the builder's bytes, fetched by digest.
        let fetched = try String(contentsOfFile: shared + "/store-\(other)/agent", encoding: .utf8)
        XCTAssertEqual(fetched, "agent built in \(shared)/store-\(builder)\n")
    }
}
