import Foundation
import SidecarCore
import XCTest

@testable import SidecarConfig

final class ConfigLoaderTests: XCTestCase {
    private func parse(_ text: String) throws -> DaemonConfig {
        try ConfigLoader.parse(text, file: "test.toml")
    }

    private func assertRejected(
        _ text: String, key: String, reasonContains: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try parse(text), file: file, line: line) { error in
            guard let error = error as? ConfigError else { return XCTFail("not a ConfigError: \(error)", file: file, line: line) }
            XCTAssertEqual(error.file, "test.toml", file: file, line: line)
            XCTAssertEqual(error.key, key, file: file, line: line)
            XCTAssertTrue(error.reason.contains(reasonContains), "reason: \(error.reason)", file: file, line: line)
        }
    }

    func testNoFileGivesTheEmbeddedDefaults() throws {
        let config = try ConfigLoader.load(path: nil)
        XCTAssertEqual(config, DaemonConfig())
        XCTAssertEqual(config.limits.maxMessageBytes, 4 * 1024 * 1024)
        XCTAssertEqual(config.limits.idleTimeoutSeconds, 300)
        XCTAssertEqual(config.retry.policies["default"]?.maxAttempts, 5)
        XCTAssertEqual(config.images.backend, .ociLayout)
        XCTAssertEqual(config.socketMode, 0o660)
    }

    func testTheExampleConfigIsValidAndSaysWhatItShows() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../examples/sidecar.toml").path
        let config = try ConfigLoader.load(path: path)
        XCTAssertEqual(config.images.images.map(\.name), ["agent-base", "tools", "agent-group-42"])
        XCTAssertEqual(config.images.images[2].base, "agent-base")
        XCTAssertTrue(config.images.images[0].keepWarm)
        XCTAssertEqual(config.retry.policies["provision"]?.maxAttempts, 3)
        XCTAssertEqual(config.retry.policies["provision"]?.baseDelaySeconds, 10)
        XCTAssertEqual(config.retry.policies["default"]?.maxDelaySeconds, 300)
        XCTAssertEqual(config.databases.roots, ["/var/lib/agents"])
        XCTAssertEqual(config.classifyRules.first?.category, "quota")
        // Apart from what it adds, the example restates the defaults.
        var defaults = DaemonConfig()
        defaults.images = config.images
        defaults.databases.roots = config.databases.roots
        defaults.retry.policies["provision"] = config.retry.policies["provision"]
        defaults.classifyRules = config.classifyRules
        XCTAssertEqual(config, defaults)
    }

    func testKeysOverrideDefaults() throws {
        let config = try parse("""
            socket = "/tmp/s.sock"
            log_level = "debug"
            socket_mode = 0o600
            admin_gids = [27]
            [limits]
            max_connections = 8
            idle_timeout = "90s"
            """)
        XCTAssertEqual(config.socket, "/tmp/s.sock")
        XCTAssertEqual(config.logLevel, "debug")
        XCTAssertEqual(config.socketMode, 0o600)
        XCTAssertEqual(config.adminGIDs, [27])
        XCTAssertEqual(config.limits.maxConnections, 8)
        XCTAssertEqual(config.limits.idleTimeoutSeconds, 90)
        XCTAssertEqual(config.limits.maxInflightPerConnection, 256, "untouched keys keep their defaults")
    }

    func testUnknownKeysAreRejected() {
        assertRejected("[limits]\nmax_conections = 3\n", key: "limits.max_conections", reasonContains: "unknown key")
        assertRejected("sockett = \"/x\"\n", key: "sockett", reasonContains: "unknown key")
        assertRejected("[[images.image]]\nname = \"a\"\nref = \"a:1\"\nkeepwarm = true\n", key: "images.image[0].keepwarm", reasonContains: "unknown key")
    }

    func testWrongTypesAndRanges() {
        assertRejected("[limits]\nmax_connections = \"many\"\n", key: "limits.max_connections", reasonContains: "must be an integer")
        assertRejected("[limits]\nmax_connections = 0\n", key: "limits.max_connections", reasonContains: "between 1 and")
        assertRejected("[limits]\nidle_timeout = \"soon\"\n", key: "limits.idle_timeout", reasonContains: "must be a duration")
        assertRejected("log_level = \"loud\"\n", key: "log_level", reasonContains: "must be one of")
        assertRejected("admin_uids = [\"root\"]\n", key: "admin_uids", reasonContains: "element 0")
        assertRejected("[images]\nbackend = \"kubernetes\"\n", key: "images.backend", reasonContains: "\"oci-layout\"")
        assertRejected("[databases]\nroots = [\"relative/path\"]\n", key: "databases.roots", reasonContains: "absolute")
        assertRejected("socket_mode = \"0440\"\n", key: "socket_mode", reasonContains: "owner")
        assertRejected("[retry]\nsynchronous = \"sometimes\"\n", key: "retry.synchronous", reasonContains: "\"normal\" or \"full\"")
        assertRejected("[retry.policy.fast]\nbase_delay = \"10s\"\nmax_delay = \"1s\"\n", key: "retry.policy.fast.max_delay", reasonContains: "base_delay")
        // The protocol refuses NUL in strings, so config text that reaches the wire may not hold one.
        assertRejected("log_level = \"info\\u0000x\"\n", key: "", reasonContains: "line 1: a string holds an escaped NUL")
        assertRejected("[databases]\nroots = [\"/srv\\U00000000/x\"]\n", key: "", reasonContains: "line 2")
        XCTAssertNoThrow(try parse("[[classify.rule]]\nmatch = \"a\\\\u0000\"\ncategory = \"c\"\n"), "an escaped backslash, then u0000, is no NUL")
    }

    func testTheMetricsListenAddressIsANumericHostAndAPort() throws {
        XCTAssertNil(try parse("").metrics.listen, "off unless asked for")
        XCTAssertEqual(try parse("[metrics]\nlisten = \"127.0.0.1:9464\"\n").metrics.listen, .init(host: "127.0.0.1", port: 9464))
        XCTAssertEqual(try parse("[metrics]\nlisten = \"[::1]:0\"\n").metrics.listen, .init(host: "::1", port: 0))
        XCTAssertEqual(try parse("[metrics]\nlisten = \"[::1]:9464\"\n").metrics.listen?.description, "[::1]:9464")
        for bad in ["localhost:9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", ":9464", "::1:9464", "[::1]", "1.2.3:80", "[127.0.0.1]:80"] {
            assertRejected("[metrics]\nlisten = \"\(bad)\"\n", key: "metrics.listen", reasonContains: "numeric address and port")
        }
        assertRejected("[metrics]\nport = 9464\n", key: "metrics.port", reasonContains: "unknown")
    }

    func testFleetModeIsOffUnlessPostgresIsSetAndItsKeysAreChecked() throws {
        XCTAssertFalse(try parse("").fleet.enabled)
        let fleet = try parse("""
            [fleet]
            postgres = "hostaddr=10.0.0.5 dbname=sidecar"
            password_file = "/etc/sidecar/pgpass"
            host_id = "node-7"
            degraded_retry = "throttle"
            query_timeout = "500ms"

            """).fleet
        XCTAssertTrue(fleet.enabled)
        XCTAssertEqual(fleet.postgres, "hostaddr=10.0.0.5 dbname=sidecar")
        XCTAssertEqual(fleet.passwordFile, "/etc/sidecar/pgpass")
        XCTAssertEqual(fleet.hostID, "node-7")
        XCTAssertEqual(fleet.degradedRetry, .throttle)
        XCTAssertEqual(fleet.queryTimeoutSeconds, 0.5)
        XCTAssertEqual(try parse("[fleet]\npostgres = \"dbname=x\"\n").fleet.degradedRetry, .local, "local by default")
        assertRejected("[fleet]\ndegraded_retry = \"exact\"\n", key: "fleet.degraded_retry", reasonContains: "local, throttle")
        assertRejected("[fleet]\npassword_file = \"pgpass\"\n", key: "fleet.password_file", reasonContains: "absolute")
        assertRejected("[fleet]\nhost_id = \"\"\n", key: "fleet.host_id", reasonContains: "1 to 255")
        assertRejected("[fleet]\nregistry_url = \"x\"\n", key: "fleet.registry_url", reasonContains: "unknown")
        let shared = try parse("[fleet]\npostgres = \"dbname=x\"\nregistry = \"127.0.0.1:5000/sidecar/\"\nclaim_ttl = \"5s\"\n").fleet
        XCTAssertEqual(shared.registry, "127.0.0.1:5000/sidecar")
        XCTAssertEqual(shared.claimTTLSeconds, 5)
        assertRejected("[fleet]\npostgres = \"dbname=x\"\nregistry = \"docker://r:5000\"\n", key: "fleet.registry", reasonContains: "a registry")
        assertRejected("[fleet]\nregistry = \"r:5000/x\"\n", key: "fleet.registry", reasonContains: "fleet.postgres")
        assertRejected(
            "[images]\nbackend = \"command\"\n[fleet]\npostgres = \"dbname=x\"\nregistry = \"r:5000/x\"\n", key: "fleet.registry",
            reasonContains: "images.command.push")
    }

    func testSyntaxErrorsNameTheLine() {
        XCTAssertThrowsError(try parse("a = 1\n[limits\n")) { error in
            let error = error as? ConfigError
            XCTAssertEqual(error?.key, "")
            XCTAssertTrue(error?.reason.contains("line 2") ?? false, "\(String(describing: error))")
        }
    }

    func testImageBasesMustExistAndFormNoCycle() {
        assertRejected("""
            [[images.image]]
            name = "derived"
            ref = "d:1"
            base = "missing"
            """, key: "images.image[0].base", reasonContains: "not declared")
        assertRejected("""
            [[images.image]]
            name = "a"
            ref = "a:1"
            base = "b"
            [[images.image]]
            name = "b"
            ref = "b:1"
            base = "a"
            """, key: "images.image[0].base", reasonContains: "cycle: a -> b -> a")
        assertRejected("""
            [[images.image]]
            name = "a"
            ref = "a:1"
            [[images.image]]
            name = "a"
            ref = "a:2"
            """, key: "images.image[1].name", reasonContains: "declared twice")
    }

    func testClassifyRulesNeedAMatchAndACategory() throws {
        assertRejected("[[classify.rule]]\ncategory = \"x\"\n", key: "classify.rule[0].match", reasonContains: "needs")
        assertRejected("[[classify.rule]]\nmatch = \"x\"\n", key: "classify.rule[0].category", reasonContains: "category")
        let config = try parse("[[classify.rule]]\nmatch = [\"A\", \"b\"]\ncategory = \"c\"\nexit_code = 3\n")
        XCTAssertEqual(config.classifyRules.first?.substrings, ["a", "b"])
        XCTAssertEqual(config.classifyRules.first?.exitCode, 3)
        XCTAssertEqual(config.classifyRules.first?.permanent, false)
        XCTAssertNil(config.classifyRules.first?.retryAfterSeconds)
    }

    func testClassifyRulesTakeARetryAfterAndOnlyTheImagePlaceholders() throws {
        let config = try parse("[[classify.rule]]\nmatch = \"slow\"\ncategory = \"c\"\nretry_after = \"90s\"\n"
            + "remedy = \"Wait for {image|the storm}, then pull {image}.\"\n")
        XCTAssertEqual(config.classifyRules.first?.retryAfterSeconds, 90)
        XCTAssertEqual(config.classifyRules.first?.remedy, "Wait for {image|the storm}, then pull {image}.")
        assertRejected("[[classify.rule]]\nmatch = \"x\"\ncategory = \"c\"\nremedy = \"Fix {ref}.\"\n",
            key: "classify.rule[0].remedy", reasonContains: "{ref}")
        assertRejected("[[classify.rule]]\nmatch = \"x\"\ncategory = \"c\"\npermanent = true\nretry_after = \"5s\"\n",
            key: "classify.rule[0].retry_after", reasonContains: "permanent")
        assertRejected("[[classify.rule]]\nmatch = \"x\"\ncategory = \"c\"\nretry_after = \"soon\"\n",
            key: "classify.rule[0].retry_after", reasonContains: "duration")
    }

    func testFlagsOverrideTheFileAndAreValidated() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sidecar-config-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("c.toml").path
        try "socket = \"/from/file.sock\"\nlog_level = \"warning\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        let config = try ConfigLoader.load(path: file, overrides: ConfigOverrides(socket: "/from/flag.sock"))
        XCTAssertEqual(config.socket, "/from/flag.sock")
        XCTAssertEqual(config.logLevel, "warning")
        XCTAssertThrowsError(try ConfigLoader.load(path: file, overrides: ConfigOverrides(logLevel: "chatty"))) { error in
            XCTAssertEqual((error as? ConfigError)?.key, "--log-level")
        }
    }

    func testMissingFileIsAConfigError() {
        XCTAssertThrowsError(try ConfigLoader.load(path: "/nonexistent/sidecar.toml")) { error in
            let error = error as? ConfigError
            XCTAssertEqual(error?.file, "/nonexistent/sidecar.toml")
            XCTAssertTrue(error?.reason.contains("No such file") ?? false, "\(String(describing: error))")
        }
    }
}
