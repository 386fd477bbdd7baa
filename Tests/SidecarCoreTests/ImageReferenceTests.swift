import SidecarCore
import XCTest

final class ImageReferenceTests: XCTestCase {
    func testReferencesOfTheDistributionGrammarPass() {
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        for reference in [
            "ubuntu", "agent:1", "localhost/agent-base:latest", "127.0.0.1:5000/agent/tools:1.4",
            "registry.example:5000/team/a_b/c__d.e---f:v1.2-rc_3", "ghcr.io/org/app@\(digest)", "app:1@\(digest)",
            "localhost:5000", "optio-node:latest",
        ] {
            XCTAssertNil(ImageReference.problem(with: reference), reference)
        }
    }

    func testTransportsPathsAndMalformedNamesAreRefused() {
        for text in [
            "oci:/path:x", "dir:/root", "docker-archive:/etc/passwd", "docker://evil", "oci-archive:/tmp/a.tar",
            "containers-storage:[overlay@/var/lib]x", "Agent:1", "team/App", "a/../b", "a//b", "a/", "/a",
            "a:", "a:.x", "a:-x", "host:port/x", "host:99999999/x", "a@sha256:xyz", "a@sha256", "a..b", "a._b",
            "--rm", "", "a b", String(repeating: "a", count: 300), "a:" + String(repeating: "t", count: 129),
        ] {
            XCTAssertNotNil(ImageReference.problem(with: text), text)
        }
    }
}
