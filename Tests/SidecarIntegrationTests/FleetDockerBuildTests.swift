import Foundation
import SidecarClient
import SidecarCore
import SidecarTestSupport
import XCTest

/// Fleet builds with `images.backend = "docker"`: two real `sidecard`s, each
/// on its own real engine (a `podman system service` with its own store,
/// which may reach the test's `docker-registry` over HTTP), one PostgreSQL.
/// One host builds from the Dockerfile and pushes through its engine; the
/// other's engine pulls it by digest.
final class FleetDockerBuildTests: XCTestCase {
    private var postgres: PostgresService!
    private var registry: RegistryService!
    private var engines: [PodmanService] = []
    private var context = ""

    override func setUpWithError() throws {
        guard PostgresService.isInstalled else { throw XCTSkip("PostgreSQL is not installed") }
        guard RegistryService.isInstalled, PodmanService.isInstalled else { throw XCTSkip("docker-registry, skopeo or podman is missing") }
        postgres = try PostgresService()
        registry = try RegistryService()
        context = DaemonProcess.makeTemporaryDirectory()
        try "FROM scratch\nCOPY agent.txt /agent.txt\n".write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        try "the fleet's agent\n".write(toFile: context + "/agent.txt", atomically: true, encoding: .utf8)
    }

    override func tearDown() {
        engines = []
        postgres = nil
        registry = nil
        try? FileManager.default.removeItem(atPath: context)
    }

    private func host(_ name: String) throws -> (DaemonProcess, PodmanService) {
        let engine = try PodmanService(insecureRegistries: [registry.host])
        engines.append(engine)
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + """
            [images]
            backend = "docker"
            docker_socket = "\(engine.socketPath)"

            [[images.image]]
            name = "agent"
            ref = "localhost/fleet-agent:1"
            context = "\(context)"

            [fleet]
            postgres = "\(postgres.connectionString)"
            host_id = "\(name)"
            registry = "\(registry.host)/sidecar"

            """)
        XCTAssertTrue(try DaemonProcess.eventually(timeout: 10) {
            try CommandResult.sidecarctl(["fleet", "status", "--socket", daemon.socketPath]).status == 0
        }, "host \(name) never connected; log:\n\(daemon.log)")
        return (daemon, engine)
    }

    func testOneHostBuildsThroughItsEngineAndTheOtherPullsItByDigest() async throws {
        let (a, engineA) = try host("a"), (b, engineB) = try host("b")
        let clients = [a.client(), b.client()]
        let answers = try await withThrowingTaskGroup(of: (Int, EnsureImageAnswer).self) { group in
            for call in 0..<20 {
                let client = clients[call % 2]
                group.addTask { (call % 2, try await client.ensureImage("agent", timeout: .seconds(120))) }
            }
            var answers: [(Int, EnsureImageAnswer)] = []
            for try await answer in group { answers.append(answer) }
            return answers
        }
        XCTAssertEqual(answers.count, 20)
        let row = try postgres.query("SELECT state, epoch, claimed_by, digest FROM sidecar_builds")
        XCTAssertEqual(row.count, 1, "\(row)")
        let published: [String] = try XCTUnwrap(row.first)
        let builder = published[2], digest = published[3]
        XCTAssertEqual(published[0], "published")
        XCTAssertEqual(published[1], "1", "claimed once: one build")
        XCTAssertTrue(digest.hasPrefix("sha256:"), digest)
        for (index, answer) in answers {
            let name = ["a", "b"][index]
            XCTAssertEqual(answer.outcome, name == builder ? .built : .pulled, "\(name): \(answer)")
            if name != builder { XCTAssertEqual(answer.detail, "built by \(builder)") }
        }
        // Both engines hold the image under its ref, with the same content.
        XCTAssertTrue(engineA.imageExists("localhost/fleet-agent:1"))
        XCTAssertTrue(engineB.imageExists("localhost/fleet-agent:1"))
        let ids = Set(answers.map(\.1.id))
        XCTAssertEqual(ids.count, 1, "the same image id on both engines: \(ids)")
        XCTAssertEqual(
            try ToolRun.run("/usr/bin/curl", [
                "-sf", "-o", "/dev/null", "-H", "Accept: application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json",
                "http://\(registry.host)/v2/sidecar/fleet/agent/manifests/\(digest)",
            ]).status, 0, "the published digest is in the registry")
        _ = (a, b)
    }
}
