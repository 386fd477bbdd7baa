import Foundation
import SidecarCore
import XCTest
import SidecarCore

/// The built `sidecarctl` against the built `sidecard`, as a shell hook runs it.
final class CommandLineTests: XCTestCase {
    private func json(_ text: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try XCTUnwrap(object as? [String: Any], text)
    }

    func testHealthInTextAndJSON() throws {
        let daemon = try DaemonProcess()
        let text = try CommandResult.sidecarctl(["health", "--socket", daemon.socketPath])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("serving on \(daemon.socketPath)"), text.stdout)

        // Global options may stand before the command (DESIGN.md 3.3).
        let answer = try CommandResult.sidecarctl(["--socket", daemon.socketPath, "--json", "health"])
        XCTAssertEqual(answer.status, 0, answer.stderr)
        let health = try json(answer.stdout)
        XCTAssertEqual(health["state"] as? String, "serving")
        XCTAssertEqual((health["pid"] as? NSNumber)?.int32Value, daemon.pid)
        XCTAssertEqual(answer.stdout.split(separator: "\n").count, 1, "one JSON object per answer")
    }

    func testTheSocketComesFromTheEnvironmentWhenNotGiven() throws {
        let daemon = try DaemonProcess()
        let answer = try CommandResult.sidecarctl(["health"], environment: ["SIDECAR_SOCKET": daemon.socketPath])
        XCTAssertEqual(answer.status, 0, answer.stderr)
    }

    func testClassify() throws {
        let daemon = try DaemonProcess()
        let answer = try CommandResult.sidecarctl([
            "classify", "--socket", daemon.socketPath, "--json", "--image", "tools:1.4", "Error: ImagePullBackOff for \"x:1\"",
        ])
        XCTAssertEqual(answer.status, 0, answer.stderr)
        let verdict = try json(answer.stdout)
        XCTAssertEqual(verdict["category"] as? String, "image_pull")
        XCTAssertEqual(verdict["permanent"] as? Bool, false)
        XCTAssertEqual(verdict["retry_after_seconds"] as? Double, 10)
        XCTAssertTrue((verdict["remedy"] as? String)?.contains("tools:1.4") ?? false)
        XCTAssertFalse((verdict["remedy"] as? String)?.contains("x:1") ?? true, "never the message's reference")

        let limited = try CommandResult.sidecarctl([
            "classify", "--socket", daemon.socketPath, "toomanyrequests: retry-after: 1.5s, allowed: 44000/minute",
        ])
        XCTAssertTrue(limited.stdout.contains("category:  rate_limited"), limited.stdout)
        XCTAssertTrue(limited.stdout.contains("retry:     after 1.5 s"), limited.stdout)

        let byExitCode = try CommandResult.sidecarctl(["classify", "--socket", daemon.socketPath, "--exit-code", "125"])
        XCTAssertEqual(byExitCode.status, 0)
        XCTAssertTrue(byExitCode.stdout.contains("category:  container_runtime"), byExitCode.stdout)
        XCTAssertTrue(byExitCode.stdout.contains("permanent: yes"), byExitCode.stdout)
    }

    /// `classify --list`: the daemon's rules, config ones first, each with
    /// its match, category, permanence, delay and remedy.
    func testClassifyListPrintsConfigRulesThenBuiltinOnes() throws {
        let rule = "\n[[classify.rule]]\nmatch = [\"flux capacitor\", \"88 mph\"]\ncategory = \"time_travel\"\n"
            + "retry_after = \"90s\"\nremedy = \"Wait for {image|the storm}.\"\n"
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + rule)
        let human = try CommandResult.sidecarctl(["classify", "--socket", daemon.socketPath, "--list"])
        XCTAssertEqual(human.status, 0, human.stderr)
        let blocks = human.stdout.components(separatedBy: "\n\n")
        XCTAssertTrue(blocks[0].hasPrefix("config:0\n"), blocks[0])
        XCTAssertTrue(blocks[0].contains(#"match:     "flux capacitor" | "88 mph""#), blocks[0])
        XCTAssertTrue(blocks[0].contains("category:  time_travel (transient)"), blocks[0])
        XCTAssertTrue(blocks[0].contains("retry:     after 90 s"), blocks[0])
        XCTAssertTrue(blocks[0].contains("remedy:    Wait for {image|the storm}."), blocks[0])
        XCTAssertTrue(blocks[1].hasPrefix("builtin:err-image-never-pull\n"), blocks[1])
        XCTAssertTrue(human.stdout.contains("builtin:rate-limited\n"), human.stdout)
        XCTAssertTrue(human.stdout.contains("category:  rate_limited (transient)\n  retry:     after 60 s"), human.stdout)
        XCTAssertTrue(human.stdout.contains("match:     exit code 125"), human.stdout)
        XCTAssertTrue(human.stdout.contains("match:     SQLite code 11 | 26"), human.stdout)

        let machine = try CommandResult.sidecarctl(["classify", "--socket", daemon.socketPath, "--list", "--json"])
        let lines = machine.stdout.split(separator: "\n").map(String.init)
        let first = try json(lines[0])
        XCTAssertEqual(first["id"] as? String, "config:0")
        XCTAssertEqual(first["match"] as? [String], ["flux capacitor", "88 mph"])
        XCTAssertEqual(first["retry_after_seconds"] as? Double, 90)
        XCTAssertEqual(lines.count, ErrorClassifier().rules.count + 1)
        XCTAssertEqual(try CommandResult.sidecarctl(["classify", "--socket", daemon.socketPath, "--list", "x"]).status, 64)
    }

    func testMetricsArePrometheusText() throws {
        let daemon = try DaemonProcess()
        _ = try CommandResult.sidecarctl(["health", "--socket", daemon.socketPath])
        let answer = try CommandResult.sidecarctl(["metrics", "--socket", daemon.socketPath])
        XCTAssertEqual(answer.status, 0)
        XCTAssertTrue(answer.stdout.contains("# TYPE sidecar_calls_total counter"))
        XCTAssertTrue(answer.stdout.contains("sidecar_calls_total{method=\"Health\",code=\"OK\"} 1"), answer.stdout)
        XCTAssertTrue(answer.stdout.contains("sidecar_call_duration_seconds_count{method=\"Health\"} 1"))
        XCTAssertTrue(answer.stdout.contains("sidecar_connections 1"), "the metrics call's own connection")
    }

    func testAnUnreachableDaemonExits69NamingTheSocket() throws {
        let missing = "/tmp/sc-nobody-\(UUID().uuidString.prefix(6)).sock"
        let started = Date()
        let answer = try CommandResult.sidecarctl(["health", "--socket", missing])
        XCTAssertEqual(answer.status, 69)
        XCTAssertTrue(answer.stderr.contains(missing), answer.stderr)
        XCTAssertEqual(answer.stderr.split(separator: "\n").count, 1, "one line: \(answer.stderr)")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "it retries briefly, not for ever")
    }

    func testANonRootClientFindsTheSystemDaemonAndNamesEveryPathItLookedAt() throws {
        let system = SidecarDefaults.systemSocketPath
        guard !FileManager.default.fileExists(atPath: system) else { throw XCTSkip("\(system) belongs to a daemon of this host") }
        let runtime = DaemonProcess.makeTemporaryDirectory()
        chmod(runtime, 0o777)
        let asNobody = { (arguments: [String]) throws -> CommandResult in
            try CommandResult.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", DaemonProcess.sidecarctlPath] + arguments,
                environment: ["XDG_RUNTIME_DIR": runtime, "SIDECAR_SOCKET": ""])
        }
        let nothing = try asNobody(["health"])
        XCTAssertEqual(nothing.status, 69)
        XCTAssertTrue(nothing.stderr.contains(runtime + "/sidecar.sock") && nothing.stderr.contains(system), nothing.stderr)

        try FileManager.default.createDirectory(atPath: "/run/sidecar", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: "/run/sidecar") }
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + "socket_mode = \"0666\"\n", socketPath: system)
        defer { _ = daemon }
        let found = try asNobody(["health"])
        XCTAssertEqual(found.status, 0, found.stderr)
        XCTAssertTrue(found.stdout.contains("on \(system)"), found.stdout)
    }

    func testVersionNamesBothEndsAndTheirProtocol() throws {
        let daemon = try DaemonProcess()
        let text = try CommandResult.sidecarctl(["version", "--socket", daemon.socketPath])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertEqual(text.stdout.split(separator: "\n"), [
            "sidecarctl \(SidecarDefaults.version) (protocol \(SidecarDefaults.protocolVersion))",
            "sidecard \(SidecarDefaults.version) (protocol \(SidecarDefaults.protocolVersion)) on \(daemon.socketPath)",
        ])
        let json = try CommandResult.sidecarctl(["version", "--json", "--socket", daemon.socketPath])
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: [String: String]])
        XCTAssertEqual(object["client"]?["protocol"], "\(SidecarDefaults.protocolVersion)")
        XCTAssertEqual(object["daemon"]?["version"], SidecarDefaults.version)
        XCTAssertEqual(object["daemon"]?["max_message_bytes"], "\(SidecarDefaults.maxMessageBytes)")

        let alone = try CommandResult.sidecarctl(["version", "--socket", daemon.directory + "/nothing.sock"])
        XCTAssertEqual(alone.status, 69)
        XCTAssertTrue(alone.stdout.hasPrefix("sidecarctl \(SidecarDefaults.version)"), "the client's line still: \(alone.stdout)")
    }

    func testUsageErrorsExit64() throws {
        XCTAssertEqual(try CommandResult.sidecarctl(["health", "--bogus"]).status, 64)
        XCTAssertEqual(try CommandResult.sidecarctl(["classify"]).status, 64)
        XCTAssertEqual(try CommandResult.sidecarctl(["no-such-command"]).status, 64)
        XCTAssertEqual(try CommandResult.sidecarctl(["health", "--timeout", "soon"]).status, 64)
    }

    func testADeadlineExceededExits75() throws {
        let daemon = try DaemonProcess()
        let stream = try CommandResult.sidecarctl(["watch", "--socket", daemon.socketPath, "--timeout", "300ms"])
        XCTAssertEqual(stream.status, 75, stream.stderr)
        XCTAssertTrue(stream.stderr.contains("DEADLINE_EXCEEDED"), stream.stderr)
    }
}
