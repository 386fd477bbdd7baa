import Foundation
import SidecarClient
import SidecarCore
import SidecarTestSupport
import XCTest

/// Fleet mode's builds: three real `sidecard`s with the default backend
/// (the OCI layout), each in its own network namespace (as root, where
/// `ip netns` works; else side by side), one real PostgreSQL and one real
/// `docker-registry` reached over the namespaces' veth links.
/// The build script logs every start to a file all hosts share, so the
/// number of builds in the whole fleet is counted, not inferred.
final class FleetBuildTests: XCTestCase {
    private var postgres: PostgresService!
    private var registry: RegistryService!
    private var namespaces: [String: NetworkNamespace] = [:]
    private var shared = ""

    override func setUpWithError() throws {
        guard PostgresService.isInstalled else { throw XCTSkip("PostgreSQL is not installed") }
        guard RegistryService.isInstalled else { throw XCTSkip("docker-registry or skopeo is missing") }
        if NetworkNamespace.isAvailable {
            for name in ["a", "b", "c"] { namespaces[name] = try NetworkNamespace() }
        }
        let links = namespaces.values.map(\.hostAddress).sorted()
        postgres = try PostgresService(extraListenAddresses: links)
        // On one link's root side: a root address every namespace routes to.
        registry = try RegistryService(listenAddress: links.first ?? "127.0.0.1")
        shared = DaemonProcess.makeTemporaryDirectory()
        let fixture = RegistryService.fixture
        // build.sh REF: makes the image (the same bytes on any host) after
        // the delay in the shared folder, into the layout of the host whose
        // daemon runs it. Every host's config is the same (a different one
        // would be another build key): the host's own parts come from its
        // environment.
        let script = """
            #!/bin/sh
            set -e
            echo "start $FLEET_TEST_HOST" >> "\(shared)/builds.log"
            daemon=$PPID
            sleep "$(cat "\(shared)/delay")"
            # As under systemd (KillMode=mixed kills the unit's processes):
            # a build whose daemon was killed makes nothing.
            # (A killed daemon not yet reaped is a zombie, state Z.)
            state=$(awk '{ print $3 }' "/proc/$daemon/stat" 2>/dev/null || true)
            [ -n "$state" ] && [ "$state" != Z ] || exit 1
            work=$(mktemp -d)
            /usr/bin/python3 "\(fixture)" "$work/layout" "$1" fleet-layer:4096
            skopeo copy --quiet "oci:$work/layout:$1" "oci:$FLEET_TEST_LAYOUT:$1"
            rm -rf "$work"
            echo "end $FLEET_TEST_HOST" >> "\(shared)/builds.log"

            """
        try script.write(toFile: shared + "/build.sh", atomically: true, encoding: .utf8)
        chmod(shared + "/build.sh", 0o755)
        try "0.5\n".write(toFile: shared + "/delay", atomically: true, encoding: .utf8)
    }

    override func tearDown() {
        hosts = []
        postgres = nil
        registry = nil
        namespaces = [:]
        try? FileManager.default.removeItem(atPath: shared)
    }

    /// Kept until tearDown: a daemon inside a namespace keeps it alive.
    private var hosts: [DaemonProcess] = []

    private func host(_ name: String, directory: String? = nil) throws -> DaemonProcess {
        let directory = directory ?? DaemonProcess.makeTemporaryDirectory()
        let config = DaemonProcess.fleetBuildConfig(
            host: name, postgres: namespaces[name].map { postgres.connectionString(hostaddr: $0.hostAddress) } ?? postgres.connectionString,
            registryHost: registry.host, buildScript: shared + "/build.sh")
        let daemon = try DaemonProcess(
            config: config, directory: directory,
            environment: ["FLEET_TEST_HOST": name, "FLEET_TEST_LAYOUT": directory + "/state/oci"],
            commandPrefix: namespaces[name].map { $0.command([]) } ?? [])
        hosts.append(daemon)
        XCTAssertTrue(try DaemonProcess.eventually(timeout: 10) {
            let status = try CommandResult.sidecarctl(["fleet", "status", "--socket", daemon.socketPath])
            return status.status == 0
        }, "host \(name) never connected; log:\n\(daemon.log)")
        return daemon
    }

    private var buildStarts: [String] {
        let log = (try? String(contentsOfFile: shared + "/builds.log", encoding: .utf8)) ?? ""
        return log.split(separator: "\n").filter { $0.hasPrefix("start ") }.map { String($0.dropFirst("start ".count)) }
    }

    private func tags() throws -> [String] {
        let result = try ToolRun.run("/usr/bin/curl", ["-sf", "http://\(registry.host)/v2/sidecar/fleet/agent/tags/list"])
        guard let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any] else { return [] }
        return object["tags"] as? [String] ?? []
    }

    func testAHundredCallsOverThreeHostsMakeOneBuildInTheWholeFleet() async throws {
        let hosts = [try host("a"), try host("b"), try host("c")]
        let clients = hosts.map { $0.client() }
        let answers = try await withThrowingTaskGroup(of: (Int, EnsureImageAnswer).self) { group in
            for call in 0..<100 {
                let client = clients[call % 3]
                group.addTask { (call % 3, try await client.ensureImage("agent", timeout: .seconds(60))) }
            }
            var answers: [(Int, EnsureImageAnswer)] = []
            for try await answer in group { answers.append(answer) }
            return answers
        }
        XCTAssertEqual(answers.count, 100, "every call answered")
        XCTAssertEqual(buildStarts.count, 1, "one build in the fleet: \(buildStarts)")
        let builder = try XCTUnwrap(buildStarts.first)
        XCTAssertEqual(try tags().count, 1, "one manifest in the registry")
        let ids = Set(answers.map(\.1.id))
        XCTAssertEqual(ids.count, 1, "the same digest on every host: \(ids)")
        for (index, answer) in answers {
            let name = ["a", "b", "c"][index]
            if name == builder {
                XCTAssertEqual(answer.outcome, .built, "\(answer)")
            } else {
                XCTAssertEqual(answer.outcome, .pulled, "\(answer)")
                XCTAssertEqual(answer.detail, "built by \(builder)")
            }
        }
        let row = try postgres.query("SELECT state, epoch, claimed_by FROM sidecar_builds")
        XCTAssertEqual(row, [["published", "1", builder]])
        if !namespaces.isEmpty {
            // Each host reached PostgreSQL over its own link.
            let peers = try postgres.query("SELECT host(client_addr) FROM pg_stat_activity WHERE application_name LIKE 'sidecard %' ORDER BY 1")
            XCTAssertEqual(peers.map { $0[0] }, namespaces.values.map(\.insideAddress).sorted())
        }
        // The waiters fetched by digest in the daemon, with no skopeo.
        for daemon in hosts { XCTAssertFalse(daemon.log.contains("pulling with skopeo"), daemon.log) }
    }

    func testAKilledBuildersClaimIsTakenOverAndItPullsOnceRestarted() async throws {
        try "3\n".write(toFile: shared + "/delay", atomically: true, encoding: .utf8)
        var hosts = ["a": try host("a"), "b": try host("b"), "c": try host("c")]
        let started = hosts.mapValues { $0.client() }
        let waiting = Task { () -> [(String, Result<EnsureImageAnswer, Error>)] in
            await withTaskGroup(of: (String, Result<EnsureImageAnswer, Error>).self) { group in
                for (name, client) in started {
                    for _ in 0..<5 {
                        group.addTask {
                            do {
                                return (name, .success(try await client.ensureImage("agent", timeout: .seconds(60))))
                            } catch {
                                return (name, .failure(error))
                            }
                        }
                    }
                }
                var results: [(String, Result<EnsureImageAnswer, Error>)] = []
                for await result in group { results.append(result) }
                return results
            }
        }
        XCTAssertTrue(DaemonProcess.eventually(timeout: 10) { !self.buildStarts.isEmpty }, "a build started")
        let first = try XCTUnwrap(buildStarts.first)
        // fleet status: the claim on the builder, the wait on the others.
        func status(_ name: String) throws -> [String: Any] {
            let result = try CommandResult.sidecarctl(["--json", "fleet", "status", "--socket", hosts[name]!.socketPath])
            return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
        }
        XCTAssertEqual(try status(first)["claims"] as? [String], ["agent (epoch 1)"])
        let other = ["a", "b", "c"].first { $0 != first }!
        let waitsOnOther = try DaemonProcess.eventually(timeout: 5) {
            (try status(other)["waits"] as? [String]) == ["agent (claimed by \(first))"]
        }
        XCTAssertTrue(waitsOnOther, "\((try? status(other)) ?? [:])")
        let text = try CommandResult.sidecarctl(["fleet", "status", "--socket", hosts[first]!.socketPath])
        XCTAssertTrue(text.stdout.contains("building for the fleet: agent (epoch 1)"), text.stdout)
        let killedAt = Date()
        let killed = try XCTUnwrap(hosts[first])
        // kill -9 alone: DaemonProcess.stop() would also wait for the
        // build's orphans, which hold the test's end of the daemon's pipes.
        killed.signal(SIGKILL)
        XCTAssertTrue(DaemonProcess.eventually(timeout: 5) { self.buildStarts.count >= 2 }, "another host took the build over: \(buildStarts)")
        let takeover = Date().timeIntervalSince(killedAt)
        print("fleet build: taken over \(String(format: "%.3f", takeover)) s after the kill")
        XCTAssertLessThan(takeover, 2, "taken over within 2 s of the kill")
        let second = buildStarts[1]
        XCTAssertNotEqual(second, first)

        let results = await waiting.value
        XCTAssertEqual(results.count, 15)
        for (name, result) in results where name != first {
            let answer = try result.get()
            XCTAssertEqual(answer.outcome, name == second ? .built : .pulled, "\(name): \(answer)")
        }
        let row = try postgres.query("SELECT state, epoch, claimed_by FROM sidecar_builds")
        XCTAssertEqual(row, [["published", "2", second]], "the next epoch, the survivor's")

        // The killed host, restarted, pulls what the fleet built.
        _ = killed.waitForExit()
        hosts[first] = try host(first, directory: killed.directory)
        let again = try await hosts[first]!.client().ensureImage("agent", timeout: .seconds(60))
        XCTAssertEqual(again.outcome, .pulled, "\(again)")
        XCTAssertEqual(again.detail, "built by \(second)")
        XCTAssertEqual(buildStarts.count, 2, "no third build: \(buildStarts)")
    }

    func testAFailedBuildIsTheFleetsAnswerUntilItsBackOffEnds() async throws {
        try "not-a-number\n".write(toFile: shared + "/delay", atomically: true, encoding: .utf8)
        let a = try host("a"), b = try host("b")
        do {
            _ = try await a.client().ensureImage("agent", timeout: .seconds(60))
            XCTFail("the build cannot succeed")
        } catch let error as SidecarError {
            XCTAssertNotEqual(error.code, .ok)
        }
        do {
            _ = try await b.client().ensureImage("agent", timeout: .seconds(60))
            XCTFail("the fleet's failure is B's answer")
        } catch let error as SidecarError {
            XCTAssertTrue(error.message.contains("failed on a"), error.message)
        }
        XCTAssertEqual(buildStarts, ["a"], "B did not build again within the back-off")
    }

    func testADegradedHostLooksInTheFleetsRegistryBeforeItBuildsAlone() async throws {
        let a = try host("a"), b = try host("b")
        let built = try await a.client().ensureImage("agent", timeout: .seconds(60))
        XCTAssertEqual(built.outcome, .built)
        try postgres.stop(immediate: true)
        XCTAssertTrue(try DaemonProcess.eventually(timeout: 5) {
            try CommandResult.sidecarctl(["fleet", "status", "--socket", b.socketPath]).status == 75
        }, "B degraded")
        let found = try await b.client().ensureImage("agent", timeout: .seconds(60))
        XCTAssertEqual(found.outcome, .pulled, "\(found)")
        XCTAssertEqual(found.id, built.id)
        XCTAssertTrue(found.detail.contains("fleet's registry"), found.detail)
        XCTAssertEqual(buildStarts, ["a"], "B found A's image instead of building")
    }
}
