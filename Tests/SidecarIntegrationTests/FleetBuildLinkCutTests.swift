import Foundation
import SidecarClient
import SidecarCore
import SidecarTestSupport
import XCTest

/// A fleet build whose builder's link is cut mid-build (packets dropped in
/// silence, FleetLinkCutTests' way): host A's `sidecard` runs in a network
/// namespace and claims the build; host B's, in the root namespace, waits.
/// A's claim is not renewed any more, so B takes it over (the next epoch)
/// once it expires; when the link returns, A's next renewal finds its claim
/// lost: A stops its build, changes nothing in the fleet, and its callers
/// get B's image like everybody else's.
///
/// One PostgreSQL (on 127.0.0.1 and the link's root side) and one
/// `docker-registry` on the link's root side, an address both sides reach
/// (from the root namespace it is a local address): every host names the
/// fleet's registry the same way. The build script logs every start and end
/// to a file both hosts share, and waits for a release file of its host, so
/// the test decides when each build ends. Each host's layer has its own
/// content (from the environment, the config being the same everywhere: it
/// is part of the build key), so A's image and B's have different digests
/// and whose the fleet keeps is seen, not assumed.
final class FleetBuildLinkCutTests: XCTestCase {
    private var namespace: NetworkNamespace!
    private var postgres: PostgresService!
    private var registry: RegistryService!
    private var a: DaemonProcess?
    private var b: DaemonProcess?
    private var shared = ""

    override func setUpWithError() throws {
        guard NetworkNamespace.isRoot else { throw XCTSkip("network namespaces need root") }
        guard PostgresService.isInstalled else { throw XCTSkip("PostgreSQL is not installed") }
        guard RegistryService.isInstalled else { throw XCTSkip("docker-registry or skopeo is missing") }
        guard NetworkNamespace.isAvailable else { throw XCTSkip("ip netns does not work here") }
        shared = DaemonProcess.makeTemporaryDirectory()
        namespace = try NetworkNamespace()
        postgres = try PostgresService(extraListenAddresses: [namespace.hostAddress])
        registry = try RegistryService(listenAddress: namespace.hostAddress)
        // build.sh REF: waits for $shared/release-HOST (120 s at most, and
        // no longer than its daemon lives), then makes the image into the
        // layout of the host whose daemon runs it.
        let script = """
            #!/bin/sh
            set -e
            echo "start $FLEET_TEST_HOST" >> "\(shared)/builds.log"
            daemon=$PPID
            waited=0
            while [ ! -e "\(shared)/release-$FLEET_TEST_HOST" ]; do
              state=$(awk '{ print $3 }' "/proc/$daemon/stat" 2>/dev/null || true)
              [ -n "$state" ] && [ "$state" != Z ] || exit 1
              waited=$((waited + 1))
              [ "$waited" -lt 1200 ] || exit 1
              sleep 0.1
            done
            work=$(mktemp -d)
            /usr/bin/python3 "\(RegistryService.fixture)" "$work/layout" "$1" "fleet-layer-$FLEET_TEST_HOST:4096"
            skopeo copy --quiet "oci:$work/layout:$1" "oci:$FLEET_TEST_LAYOUT:$1"
            rm -rf "$work"
            echo "end $FLEET_TEST_HOST" >> "\(shared)/builds.log"

            """
        try script.write(toFile: shared + "/build.sh", atomically: true, encoding: .utf8)
        chmod(shared + "/build.sh", 0o755)
    }

    override func tearDown() {
        // Every build still waiting ends (a script inside keeps the namespace alive).
        if !shared.isEmpty {
            release("a")
            release("b")
            let script = shared + "/build.sh"
            _ = DaemonProcess.eventually(timeout: 10) { (try? ToolRun.run("/usr/bin/pgrep", ["-f", script]).status) == 1 }
        }
        // The daemon inside first: a process in the namespace keeps it alive.
        a = nil
        b = nil
        registry = nil
        postgres = nil
        namespace = nil
        if !shared.isEmpty { try? FileManager.default.removeItem(atPath: shared) }
    }

    private func config(host: String, postgres connection: String) -> String {
        DaemonProcess.fleetBuildConfig(
            host: host, postgres: connection, registryHost: registry.host, buildScript: shared + "/build.sh")
    }

    func testABuilderWhoseLinkIsCutIsTakenOverAndThenStopsItsBuildAndTakesTheFleets() async throws {
        // Each host's build writes into its own daemon's layout (state/oci).
        let aDirectory = DaemonProcess.makeTemporaryDirectory(), bDirectory = DaemonProcess.makeTemporaryDirectory()
        let a = try DaemonProcess(
            config: config(host: "a", postgres: postgres.connectionString(hostaddr: namespace.hostAddress)),
            directory: aDirectory, environment: ["FLEET_TEST_HOST": "a", "FLEET_TEST_LAYOUT": aDirectory + "/state/oci"],
            commandPrefix: namespace.command([]))
        self.a = a
        let b = try DaemonProcess(
            config: config(host: "b", postgres: postgres.connectionString), directory: bDirectory,
            environment: ["FLEET_TEST_HOST": "b", "FLEET_TEST_LAYOUT": bDirectory + "/state/oci"])
        self.b = b
        try waitForFleet(a.socketPath, toBe: "connected", seconds: 10, log: a.log)
        try waitForFleet(b.socketPath, toBe: "connected", seconds: 10, log: b.log)
        XCTAssertEqual(
            try postgres.query("SELECT DISTINCT host(client_addr) FROM pg_stat_activity WHERE application_name = 'sidecard a'"),
            [[namespace.insideAddress]], "A reaches PostgreSQL over the link")

        // A claims the build first, then B's callers wait for it.
        let aCalls = Calls(a.client(), count: 3)
        XCTAssertTrue(DaemonProcess.eventually(timeout: 10) { self.builds("start") == ["a"] }, "A's build started; log:\n\(a.log)")
        XCTAssertEqual(try buildRow(), ["building", "1", "a", ""])
        // Longer than claim_ttl: A's renewals keep its claim while the link is up.
        let bCalls = Calls(b.client(), count: 3)
        usleep(4_000_000)
        XCTAssertEqual(builds("start"), ["a"], "B waits for A's claim")
        XCTAssertTrue(bCalls.results.isEmpty, "B's callers wait")
        XCTAssertEqual(try buildRow(), ["building", "1", "a", ""])

        // The cut: A's claim is not renewed and expires; B takes it over.
        try namespace.cut()
        let cutAt = Date()
        let tookOver = DaemonProcess.eventually(timeout: 20) { self.builds("start").contains("b") }
        let takeover = Date().timeIntervalSince(cutAt)
        print("FleetBuildLinkCutTests: B took the build over \(String(format: "%.2f", takeover)) s after A's link was cut")
        XCTAssertTrue(tookOver, "B took the build over; B's log:\n\(b.log)")
        XCTAssertLessThan(takeover, 15, "taken over within 15 s of the cut")
        // A renewed every claim_ttl / 4 until the cut: its claim ran 2.25 s more at least.
        XCTAssertGreaterThan(takeover, 2, "not before A's last renewal expired")
        XCTAssertEqual(builds("start"), ["a", "b"])
        XCTAssertEqual(try buildRow(), ["building", "2", "b", ""], "the next epoch, B's")
        XCTAssertEqual(try fleetState(a.socketPath), "degraded", "A's link is cut")
        XCTAssertTrue(aCalls.results.isEmpty, "A still builds")

        // The link returns: A's next renewal finds its claim lost, A stops
        // its build and waits like the others; nothing it did changes the row.
        try namespace.restore()
        try waitForFleet(a.socketPath, toBe: "connected", seconds: 10, log: a.log)
        XCTAssertTrue(
            DaemonProcess.eventually(timeout: 5) { a.log.contains(Self.lostAtRenewal) }, "A's log says its claim was lost:\n\(a.log)")
        XCTAssertTrue(a.log.contains("stopping this build"), a.log)
        usleep(1_500_000)
        XCTAssertEqual(builds("end"), [], "A's build was stopped, not finished")
        XCTAssertTrue(aCalls.results.isEmpty, "A's callers wait for the fleet's build")
        XCTAssertEqual(try buildRow(), ["building", "2", "b", ""], "A changed nothing: B still holds the claim")

        // B's build ends: B's callers get BUILT, A's get the same image, PULLED.
        release("b")
        XCTAssertTrue(DaemonProcess.eventually(timeout: 30) { bCalls.results.count == 3 }, "B's callers were answered; log:\n\(b.log)")
        let bAnswers = try bCalls.results.map { try $0.get() }
        XCTAssertEqual(bAnswers.map(\.outcome), [.built, .built, .built], "\(bAnswers)")
        let digest = try XCTUnwrap(bAnswers.first?.id)
        XCTAssertEqual(Set(bAnswers.map(\.id)), [digest])
        XCTAssertTrue(digest.hasPrefix("sha256:"), digest)
        XCTAssertTrue(DaemonProcess.eventually(timeout: 30) { aCalls.results.count == 3 }, "A's callers were answered; log:\n\(a.log)")
        let aAnswers = try aCalls.results.map { try $0.get() }
        XCTAssertEqual(aAnswers.map(\.outcome), [.pulled, .pulled, .pulled], "\(aAnswers)")
        XCTAssertEqual(Set(aAnswers.map(\.id)), [digest], "A has B's image")
        XCTAssertEqual(aAnswers.first?.detail, "built by b")
        XCTAssertEqual(try buildRow(), ["published", "2", "b", digest])
        XCTAssertFalse(b.log.contains("was lost"), "B's claim was not lost:\n\(b.log)")
        XCTAssertEqual(
            try ToolRun.run("/usr/bin/curl", [
                "-sf", "-o", "/dev/null", "-H", "Accept: application/vnd.oci.image.manifest.v1+json",
                "http://\(registry.host)/v2/sidecar/fleet/agent/manifests/\(digest)",
            ]).status, 0, "the published digest is in the registry")
        XCTAssertEqual(builds("start"), ["a", "b"], "no third build")

        // And later still, nothing moved.
        usleep(1_000_000)
        XCTAssertEqual(try buildRow(), ["published", "2", "b", digest])
    }

    /// What FleetImageBackend logs when a renewal finds the claim lost.
    private static let lostAtRenewal = "the build claim of agent:1 (epoch 1) was lost; stopping this build"

    private func release(_ host: String) {
        _ = FileManager.default.createFile(atPath: shared + "/release-\(host)", contents: nil)
    }

    /// The hosts whose builds logged `what` ("start" or "end"), in order.
    private func builds(_ what: String) -> [String] {
        let log = (try? String(contentsOfFile: shared + "/builds.log", encoding: .utf8)) ?? ""
        return log.split(separator: "\n").filter { $0.hasPrefix(what + " ") }.map { String($0.dropFirst(what.count + 1)) }
    }

    /// The one row of sidecar_builds: state, epoch, claimed_by, digest.
    private func buildRow() throws -> [String] {
        let rows = try postgres.query("SELECT state, epoch, claimed_by, digest FROM sidecar_builds")
        XCTAssertEqual(rows.count, 1, "one build key: \(rows)")
        return rows.first ?? []
    }

    /// `sidecarctl --json health`'s fleet state.
    private func fleetState(_ socketPath: String) throws -> String? {
        let result = try CommandResult.sidecarctl(["--json", "health", "--socket", socketPath])
        guard let data = result.stdout.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let fleet = object["fleet"] as? [String: Any]
        else { return nil }
        return fleet["state"] as? String
    }

    private func waitForFleet(_ socketPath: String, toBe state: String, seconds: Double, log: @autoclosure () -> String) throws {
        var last: String?
        let reached = try DaemonProcess.eventually(timeout: seconds) {
            last = try fleetState(socketPath)
            return last == state
        }
        if !reached { XCTFail("fleet state \(last ?? "?"), not \(state), after \(seconds) s; log:\n\(log())") }
    }
}

/// `count` EnsureImage calls of "agent" started at once; their results, as
/// they come.
private final class Calls: @unchecked Sendable {
    private let lock = NSLock()
    private var gathered: [Result<EnsureImageAnswer, Error>] = []

    init(_ client: SidecarClient, count: Int) {
        for _ in 0..<count {
            Task {
                let result: Result<EnsureImageAnswer, Error>
                do {
                    result = .success(try await client.ensureImage("agent", timeout: .seconds(120)))
                } catch {
                    result = .failure(error)
                }
                lock.withLock { gathered.append(result) }
            }
        }
    }

    var results: [Result<EnsureImageAnswer, Error>] { lock.withLock { gathered } }
}
