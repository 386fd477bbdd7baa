import Foundation
import SidecarConfig
import SidecarImages
import SidecarLoop
import SidecarTestSupport
import XCTest

@testable import SidecarImageBackends

/// The contract against the Docker Engine API backend, talking to a real
/// `podman system service` with its own vfs store.
final class DockerBackendContractTests: ImageBackendContract {
    private var podman: PodmanService?
    private var backend: DockerEngineBackend?
    private var loop: EventLoop?

    override func tearDown() {
        backend?.close()
        if let loop {
            loop.run()
            loop.close()
        }
        podman = nil
    }

    override func makeBackend() throws -> BackendUnderTest? {
        guard PodmanService.isInstalled else { throw XCTSkip("podman is not installed (scripts/install-deps.sh test installs it)") }
        let podman = try PodmanService()
        self.podman = podman
        let contexts = podman.directory + "/contexts"
        try makeBuildContext(at: contexts + "/buildable", dockerfile: "FROM scratch\nCOPY file /file\n", files: ["file": "made\n"])
        try makeBuildContext(at: contexts + "/failing", dockerfile: "FROM scratch\nRUN echo step 2 failed\nCOPY missing /x\n")
        try makeBuildContext(at: contexts + "/hanging", dockerfile: "FROM scratch\nCOPY file /file\n", files: ["file": "slow\n"])
        let loop = try EventLoop()
        self.loop = loop
        let backend = try DockerEngineBackend(loop: loop, socketPath: podman.socketPath)
        self.backend = backend
        func image(_ name: String) -> ImageSpec {
            var spec = ImageSpec(name: name, ref: "localhost/contract-\(name):latest")
            spec.context = contexts + "/" + name
            return spec
        }
        return BackendUnderTest(
            loop: loop, backend: backend, buildable: image("buildable"), failing: image("failing"), hanging: image("hanging"),
            hangingTimeoutSeconds: 0.01,
            removeOutOfBand: { XCTAssertEqual(try podman.podman(["rmi", $0.ref]).status, 0) })
    }

    func testAMissingEngineIsUnavailableWithItsSocketAndARemedy() throws {
        let loop = try EventLoop()
        self.loop = loop
        let backend = try DockerEngineBackend(loop: loop, socketPath: "/tmp/no-engine-here.sock")
        self.backend = backend
        var answer: Result<ImagePresence, ImageBackendFailure>?
        backend.presence(of: ImageSpec(name: "a", ref: "a:1")) { answer = $0 }
        while answer == nil { loop.run() }
        guard case .failure(let failure) = answer else { return XCTFail("\(String(describing: answer))") }
        XCTAssertEqual(failure.kind, .unavailable)
        XCTAssertTrue(failure.message.contains("/tmp/no-engine-here.sock"), failure.message)
        XCTAssertFalse(failure.remedy.isEmpty)
    }

    func testTheAPIVersionIsTheOlderOfTheEngineAndOurs() {
        XCTAssertEqual(DockerEngineBackend.chooseVersion(engine: "1.43"), "1.41")
        XCTAssertEqual(DockerEngineBackend.chooseVersion(engine: "1.40"), "1.40")
        XCTAssertEqual(DockerEngineBackend.chooseVersion(engine: "garbage"), "1.41")
        XCTAssertEqual(DockerEngineBackend.split("registry:5000/agent/tools:1.4").tag, "1.4")
        XCTAssertEqual(DockerEngineBackend.split("registry:5000/agent/tools").tag, "latest")
    }
}
