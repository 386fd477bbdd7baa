import SidecarConfig
import SidecarCore
import SidecarImages
import SidecarTestSupport
import XCTest

/// The answer-at-once path of EnsureImage (`writePresentAnswer`): found by
/// the request's bytes as `ensure` finds it by name, and its kept encoding
/// never outlives the id it was made for.
final class PresentAnswerTests: XCTestCase {
    private let clock = FakeClock()
    private let backend = FakeImageBackend()

    private func coordinator(_ specs: [DaemonConfig.ImageSpec]) -> ImageCoordinator {
        var images = DaemonConfig.ImagesConfig()
        images.images = specs
        for spec in specs { backend.buildable.insert(spec.ref) }
        backend.endsJobsAtOnce = true
        return ImageCoordinator(images: images, backend: backend, clock: clock, classifier: ErrorClassifier())
    }

    /// What the fast path wrote for `key` ("name|ref|id"), or nil when it
    /// declined; and how many times it had to encode.
    private func answer(_ images: ImageCoordinator, _ key: String, encodings: inout Int) -> String? {
        var written: String?
        var bytes = Array(key.utf8)
        let answered = bytes.withUnsafeMutableBytes { raw in
            images.writePresentAnswer(
                utf8: UnsafeRawBufferPointer(raw),
                encode: { name, ref, id in
                    encodings += 1
                    return Array("\(name)|\(ref)|\(id)".utf8)
                },
                write: { written = String(decoding: $0, as: UTF8.self) })
        }
        XCTAssertEqual(answered, written != nil)
        return written
    }

    func testANameOrRefIsFoundByItsBytesAndANameWinsOverAnotherImagesRef() {
        // "tools" is one image's name and another's ref: `ensure` takes the name.
        var odd = DaemonConfig.ImageSpec(name: "odd", ref: "tools")
        odd.build = ["./build.sh"]
        var tools = DaemonConfig.ImageSpec(name: "tools", ref: "localhost/tools:1")
        tools.build = ["./build.sh"]
        var many = [odd, tools]
        // Past the table's first size, so it grows with everything found.
        for index in 0..<40 {
            var spec = DaemonConfig.ImageSpec(name: "image-\(index)", ref: "localhost/image-\(index):latest")
            spec.build = ["./build.sh"]
            many.append(spec)
        }
        let images = coordinator(many)
        var encodings = 0
        XCTAssertNil(answer(images, "tools", encodings: &encodings), "not known present yet")
        for spec in many { _ = images.ensure(spec.name) { _ in } }

        XCTAssertEqual(answer(images, "tools", encodings: &encodings)?.split(separator: "|").first, "tools")
        XCTAssertEqual(answer(images, "localhost/tools:1", encodings: &encodings)?.split(separator: "|").first, "tools")
        for index in [0, 17, 39] {
            XCTAssertEqual(
                answer(images, "localhost/image-\(index):latest", encodings: &encodings)?.split(separator: "|").first,
                "image-\(index)"[...])
        }
        XCTAssertNil(answer(images, "image-40", encodings: &encodings))
        XCTAssertNil(answer(images, "", encodings: &encodings))
        XCTAssertNil(answer(images, "tool", encodings: &encodings), "a prefix is not a name")
    }

    func testTheKeptAnswerIsMadeOnceAndRemadeWhenTheIdChanges() {
        var agent = DaemonConfig.ImageSpec(name: "agent", ref: "localhost/agent:latest")
        agent.build = ["./build.sh"]
        let images = coordinator([agent])
        _ = images.ensure("agent") { _ in }
        let firstID = backend.store["localhost/agent:latest"]!

        var encodings = 0
        for _ in 0..<3 {
            XCTAssertEqual(answer(images, "agent", encodings: &encodings), "agent|localhost/agent:latest|\(firstID)")
        }
        XCTAssertEqual(encodings, 1)

        // Rebuilt under another id: the next presence check sees it.
        backend.store["localhost/agent:latest"] = "sha256:rebuilt"
        clock.advance(3600)
        XCTAssertNil(answer(images, "agent", encodings: &encodings), "past the presence TTL, ensure must look again")
        _ = images.ensure("agent") { _ in }
        XCTAssertEqual(answer(images, "agent", encodings: &encodings), "agent|localhost/agent:latest|sha256:rebuilt")
        XCTAssertEqual(encodings, 2)
    }

    func testAnAdHocRefIsAnsweredOnceItIsKnownPresent() {
        let images = coordinator([])
        backend.pullable.insert("registry.example/tool:1")
        var encodings = 0
        XCTAssertNil(answer(images, "registry.example/tool:1", encodings: &encodings))
        _ = images.ensure("registry.example/tool:1") { _ in }
        XCTAssertEqual(answer(images, "registry.example/tool:1", encodings: &encodings)?.split(separator: "|").last?.hasPrefix("sha256:"), true)
    }
}
