import Foundation
import SidecarTestSupport
import XCTest

/// Issue 13: every pull failure is answered as the classifier reads
/// skopeo's real output, for a configured image and an ad hoc reference
/// alike, with the default backend (an OCI layout, skopeo) and a real
/// docker-registry: the exit code of `sidecarctl ensure-image`, the
/// category, and a remedy naming the reference pulled (never skopeo's log
/// timestamp). The back-off that follows answers the same.
final class PullFailureTests: XCTestCase {
    private var registry: RegistryService!
    private var locked: RegistryService!
    private var daemon: DaemonProcess!
    /// A port nothing listens on: a registry that is down.
    private var downHost = ""
    private static let login = (user: "alice", password: "s3cret-pass")

    override func setUpWithError() throws {
        guard RegistryService.isInstalled else { throw XCTSkip("docker-registry or skopeo missing (scripts/install-deps.sh test)") }
        guard RegistryService.canAskForLogin else { throw XCTSkip("htpasswd missing (apache2-utils; scripts/install-deps.sh test)") }
        registry = try RegistryService()
        try registry.push("agent/alpha:1", layers: ["alpha-base:1024"])
        locked = try RegistryService(login: Self.login)
        try locked.push("agent/secret:1", layers: ["secret-base:1024"], login: Self.login)
        let stopped = try RegistryService()
        downHost = stopped.host
        stopped.stop()
        daemon = try DaemonProcess(config: DaemonProcess.baseConfig + """
            [images]
            insecure_registries = ["\(registry.host)", "\(locked.host)", "\(downHost)"]
            failure_backoff = "30s"

            [[images.image]]
            name = "down"
            ref = "down:1"
            pull = "\(downHost)/agent/alpha:1"

            [[images.image]]
            name = "tagless"
            ref = "tagless:1"
            pull = "\(registry.host)/agent/alpha:2"

            [[images.image]]
            name = "nameless"
            ref = "nameless:1"
            pull = "\(registry.host)/agent/nope:1"

            [[images.image]]
            name = "locked"
            ref = "locked:1"
            pull = "\(locked.host)/agent/secret:1"

            """)
    }

    override func tearDown() {
        daemon = nil
        registry = nil
        locked = nil
    }

    private struct Answer {
        var status: Int32
        var code: String
        var message: String
        var category: String
        var permanent: Bool
        var remedy: String
        var retryAfter: Double
    }

    private func ensure(_ image: String) throws -> Answer {
        let run = try CommandResult.sidecarctl([
            "ensure-image", "--socket", daemon.socketPath, "--json", "--timeout", "60s", image,
        ])
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let error = try XCTUnwrap(object?["error"] as? [String: Any], "\(image): \(run.stdout) \(run.stderr)")
        let detail = try XCTUnwrap(error["detail"] as? [String: Any], "\(image): \(run.stdout)")
        return Answer(
            status: run.status, code: error["code"] as? String ?? "", message: error["message"] as? String ?? "",
            category: detail["category"] as? String ?? "", permanent: detail["permanent"] as? Bool ?? false,
            remedy: detail["remedy"] as? String ?? "", retryAfter: detail["retry_after_seconds"] as? Double ?? 0)
    }

    func testEachPullFailureKindForAConfiguredImageAndAnAdHocReference() throws {
        let cases: [(kind: String, configured: String, pulled: String, adHoc: String, status: Int32, code: String,
            category: String, skopeoSays: String)] = [
            ("registry down", "down", "\(downHost)/agent/alpha:1", "\(downHost)/agent/other:3", 75, "UNAVAILABLE",
             "registry_unavailable", "connection refused"),
            ("tag missing", "tagless", "\(registry.host)/agent/alpha:2", "\(registry.host)/agent/alpha:9", 1, "NOT_FOUND",
             "image_not_found", "manifest unknown"),
            ("repository missing", "nameless", "\(registry.host)/agent/nope:1", "\(registry.host)/agent/none:1", 1, "NOT_FOUND",
             "image_not_found", "manifest unknown"),
            ("unauthorized", "locked", "\(locked.host)/agent/secret:1", "\(locked.host)/agent/secret:1", 1,
             "FAILED_PRECONDITION", "registry_auth", "authentication required"),
        ]
        for item in cases {
            for (asked, pulled) in [(item.configured, item.pulled), (item.adHoc, item.adHoc)] {
                let what = "\(item.kind), asked as \(asked)"
                let first = try ensure(asked)
                XCTAssertEqual(first.status, item.status, "\(what): \(first.message)")
                XCTAssertEqual(first.code, item.code, what)
                XCTAssertEqual(first.category, item.category, what)
                XCTAssertEqual(first.permanent, item.status == 1, what)
                XCTAssertTrue(first.message.contains(item.skopeoSays), "\(what): skopeo's own words are kept: \(first.message)")
                XCTAssertTrue(first.remedy.contains(pulled), "\(what): the remedy names \(pulled): \(first.remedy)")
                XCTAssertFalse(first.remedy.contains("level=fatal") || first.remedy.contains("time="), "\(what): \(first.remedy)")
                XCTAssertFalse(first.remedy.contains("{") || first.remedy.contains("<image>"), "\(what): \(first.remedy)")
                XCTAssertGreaterThanOrEqual(first.retryAfter, 29, "\(what): the back-off's delay")

                // Backing off: the same verdict again, no new pull.
                let again = try ensure(asked)
                XCTAssertEqual(again.status, item.status, what)
                XCTAssertEqual(again.code, item.code, what)
                XCTAssertEqual(again.category, item.category, what)
                XCTAssertTrue(again.message.contains("backing off"), "\(what): \(again.message)")
                XCTAssertLessThanOrEqual(again.retryAfter, first.retryAfter, what)
            }
        }
    }
}
