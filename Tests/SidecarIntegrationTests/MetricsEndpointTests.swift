import Foundation
import SidecarClient
import SidecarTestSupport
import XCTest

/// `metrics.listen`: the Prometheus text over HTTP, scraped by a real
/// Prometheus and read back through its query API, and the endpoint's
/// answers to what it does not serve.
final class MetricsEndpointTests: XCTestCase {
    private var daemon: DaemonProcess?
    private var prometheus: PrometheusService?

    override func tearDown() {
        prometheus = nil
        daemon = nil
    }

    /// A daemon serving metrics on a port the kernel picks; "127.0.0.1:PORT".
    private func startDaemon() throws -> (SidecarClient, String) {
        let started = try DaemonProcess(config: DaemonProcess.baseConfig + """
            [metrics]
            listen = "127.0.0.1:0"

            [images]
            backend = "command"
            """)
        daemon = started
        let line = try XCTUnwrap(started.log.split(separator: "\n").first { $0.contains("metrics: serving http://") }, started.log)
        let afterScheme = try XCTUnwrap(line.range(of: "http://"), String(line)).upperBound
        let address = String(line[afterScheme...].prefix { $0 != "/" })
        return (started.client(), address)
    }

    private func curl(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try ToolRun.run("/usr/bin/curl", ["-s", "--max-time", "10"] + arguments)
    }

    func testARealPrometheusScrapesWhatTheCallsDid() async throws {
        guard PrometheusService.isInstalled else { throw XCTSkip("prometheus missing (scripts/install-deps.sh test installs it)") }
        let (client, address) = try startDaemon()
        for _ in 0..<7 { _ = try await client.health() }
        _ = try await client.acquireLease(target: "agent", holder: "runner-1", ttlSeconds: 600)
        _ = try await client.acquireLease(target: "tool", holder: "runner-2", ttlSeconds: 600)
        _ = try await client.reserveRetrySlot(key: "task-1", lastError: "connection reset by peer")

        let prometheus = try PrometheusService(scraping: address)
        self.prometheus = prometheus
        XCTAssertEqual(try prometheus.wait(for: "up{job=\"sidecar\"}", toEqual: 1), 1, "scraped")
        XCTAssertEqual(try prometheus.wait(for: "sidecar_calls_total{method=\"Health\",code=\"OK\"}", toEqual: 7), 7)
        XCTAssertEqual(try prometheus.wait(for: "sidecar_leases_held", toEqual: 2), 2)
        XCTAssertEqual(try prometheus.wait(for: "sidecar_retry_keys{state=\"active\"}", toEqual: 1), 1)
        XCTAssertEqual(try prometheus.wait(for: "sidecar_image_jobs_running{kind=\"build\"}", toEqual: 0), 0)

        _ = try await client.releaseLease(id: try await client.listLeases().first!.id)
        XCTAssertEqual(try prometheus.wait(for: "sidecar_leases_held", toEqual: 1), 1, "a later scrape sees the change")
    }

    func testPromtoolAcceptsTheText() throws {
        guard PrometheusService.isInstalled else { throw XCTSkip("promtool missing (scripts/install-deps.sh test installs it)") }
        let (_, address) = try startDaemon()
        let text = try curl(["http://\(address)/metrics"])
        XCTAssertEqual(text.status, 0)
        XCTAssertTrue(text.output.contains("# TYPE sidecar_image_job_duration_seconds histogram"), text.output)
        let file = daemon!.directory + "/metrics.txt"
        try text.output.write(toFile: file, atomically: true, encoding: .utf8)
        let checked = try ToolRun.run("/bin/sh", ["-c", "/usr/bin/promtool check metrics < \(file)"])
        XCTAssertEqual(checked.status, 0, checked.output)
    }

    func testTheEndpointServesTwoPathsAndSaysWhatItDoesNot() throws {
        let (_, address) = try startDaemon()
        let codes = { (arguments: [String]) throws -> String in
            try self.curl(["-o", "/dev/null", "-w", "%{http_code}"] + arguments).output
        }
        XCTAssertEqual(try codes(["http://\(address)/healthz"]), "200")
        XCTAssertEqual(try codes(["http://\(address)/metrics?name=x"]), "200", "a query string is ignored")
        XCTAssertEqual(try codes(["-I", "http://\(address)/metrics"]), "200")
        XCTAssertEqual(try codes(["http://\(address)/other"]), "404")
        XCTAssertEqual(try codes(["-X", "POST", "http://\(address)/metrics"]), "405")
        XCTAssertEqual(try codes(["--data", "x=1", "http://\(address)/metrics"]), "405")
        XCTAssertEqual(try codes(["-H", "X-Big: \(String(repeating: "a", count: 9000))", "http://\(address)/healthz"]), "431")

        // Two requests on one kept-alive connection, then garbage.
        let exchange = try ToolRun.run("/usr/bin/python3", ["-c", """
            import socket, sys
            host, port = sys.argv[1].rsplit(":", 1)
            s = socket.create_connection((host, int(port)), timeout=10)
            s.sendall(b"GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nGET /healthz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nNOT HTTP\\r\\n\\r\\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            print(data.count(b"HTTP/1.1 200 OK"), data.count(b"HTTP/1.1 400 Bad Request"))
            """, address])
        XCTAssertEqual(exchange.output.trimmingCharacters(in: .whitespacesAndNewlines), "2 1", exchange.output)
    }
}
