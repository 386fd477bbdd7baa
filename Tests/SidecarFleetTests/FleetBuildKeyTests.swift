import Foundation
import SidecarConfig
import SidecarFleet
import SidecarImages
import SidecarLoop
import SidecarTestSupport
import XCTest

/// A build key changes with everything that makes the result, and with
/// nothing else: hosts whose configs differ never share a build, hosts
/// whose configs agree always do.
final class FleetBuildKeyTests: XCTestCase {
    private var context = ""

    override func setUpWithError() throws {
        context = "/tmp/sc-key-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: context + "/src", withIntermediateDirectories: true)
        try "FROM base\n".write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        try "print(1)\n".write(toFile: context + "/src/main.py", atomically: true, encoding: .utf8)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: context)
    }

    private func key(_ image: ImageSpec, images: DaemonConfig.ImagesConfig, backend: FakeImageBackend) throws -> String? {
        let loop = try EventLoop()
        var key: String??
        FleetBuildKey.make(for: image, images: images, backend: backend, loop: loop) { key = $0 }
        loop.run()
        loop.close()
        return try XCTUnwrap(key, "answered")
    }

    func testTheKeyFollowsTheStanzaTheBaseDigestAndTheContextsContent() throws {
        var base = ImageSpec(name: "base", ref: "base:1")
        base.build = ["make-base"]
        var agent = ImageSpec(name: "agent", ref: "agent:1")
        agent.build = ["buildah", "bud", "-t", "{ref}", "."]
        agent.context = context
        agent.base = "base"
        var images = DaemonConfig.ImagesConfig()
        images.images = [base, agent]
        let backend = FakeImageBackend()
        backend.store["base:1"] = "sha256:aaaa"

        let first = try XCTUnwrap(try key(agent, images: images, backend: backend))
        XCTAssertEqual(first.count, 64)
        XCTAssertEqual(try key(agent, images: images, backend: backend), first, "the same inputs, the same key")

        var otherArgv = agent
        otherArgv.build.append("--no-cache")
        XCTAssertNotEqual(try key(otherArgv, images: images, backend: backend), first, "the build argv")

        backend.store["base:1"] = "sha256:bbbb"
        XCTAssertNotEqual(try key(agent, images: images, backend: backend), first, "the base's digest")
        backend.store["base:1"] = "sha256:aaaa"

        try "print(2)\n".write(toFile: context + "/src/main.py", atomically: true, encoding: .utf8)
        let edited = try key(agent, images: images, backend: backend)
        XCTAssertNotEqual(edited, first, "a file's content in the context")
        try "print(1)\n".write(toFile: context + "/src/main.py", atomically: true, encoding: .utf8)
        XCTAssertEqual(try key(agent, images: images, backend: backend), first, "the content again, the key again")

        try "x".write(toFile: context + "/src/extra", atomically: true, encoding: .utf8)
        XCTAssertNotEqual(try key(agent, images: images, backend: backend), first, "a file added")

        backend.store["base:1"] = nil
        XCTAssertNil(try key(agent, images: images, backend: backend), "no key while the base is not present")
    }
}
