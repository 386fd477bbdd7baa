import Foundation
import SidecarConfig
import SidecarImages
import SidecarLoop
import XCTest

@testable import SidecarImageBackends

/// The contract against the command backend, driving the real fixture
/// script (Tests/Fixtures/image_store.sh) through `uv_spawn`.
final class CommandBackendContractTests: ImageBackendContract {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/image_store.sh").standardizedFileURL.path

    private var store: String!
    private var loop: EventLoop?

    override func tearDown() {
        loop?.close()
        if let store { try? FileManager.default.removeItem(atPath: store) }
    }

    override func makeBackend() throws -> BackendUnderTest? {
        let store = "/tmp/sc-contract-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        self.store = store
        try "1".write(toFile: store + "/failing.fail", atomically: true, encoding: .utf8)
        try "1".write(toFile: store + "/hanging.hang", atomically: true, encoding: .utf8)
        var templates = DaemonConfig.CommandTemplates()
        templates.exists = [Self.script, "exists", store, "{name}"]
        templates.remove = [Self.script, "remove", store, "{name}"]
        templates.build = [Self.script, "build", store, "{name}"]
        let loop = try EventLoop()
        self.loop = loop
        func image(_ name: String) -> ImageSpec { ImageSpec(name: name, ref: "localhost/\(name):latest") }
        return BackendUnderTest(
            loop: loop, backend: CommandImageBackend(loop: loop, templates: templates),
            buildable: image("buildable"), failing: image("failing"), hanging: image("hanging"),
            hangingTimeoutSeconds: 0.5, removeOutOfBand: { try FileManager.default.removeItem(atPath: store + "/" + $0.name) })
    }

    func testTemplatesAreFilledPerElementAndNeverSplit() {
        var image = ImageSpec(name: "tools", ref: "tools:1.4")
        image.pull = "registry.example:5000/agent/tools:1.4"
        let argv = CommandImageBackend.substitute(["pull", "{source}", "--tag={ref}", "{name} x"], image: image)
        XCTAssertEqual(argv, ["pull", "registry.example:5000/agent/tools:1.4", "--tag=tools:1.4", "tools x"])
    }

    func testAProgramThatCannotRunMakesTheBackendUnavailable() throws {
        let loop = try EventLoop()
        self.loop = loop
        var templates = DaemonConfig.CommandTemplates()
        templates.exists = ["/nonexistent/podman", "image", "exists", "{ref}"]
        let backend = CommandImageBackend(loop: loop, templates: templates)
        var answer: Result<ImagePresence, ImageBackendFailure>?
        backend.presence(of: ImageSpec(name: "a", ref: "a:1")) { answer = $0 }
        while answer == nil { loop.run() }
        guard case .failure(let failure) = answer else { return XCTFail("\(String(describing: answer))") }
        XCTAssertEqual(failure.kind, .unavailable)
        XCTAssertTrue(failure.message.contains("/nonexistent/podman"), failure.message)
    }
}
