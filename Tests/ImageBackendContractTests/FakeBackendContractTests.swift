import SidecarConfig
import SidecarImages
import SidecarLoop
import SidecarTestSupport
import XCTest

/// The contract against the fake backend the coordinator's unit tests use,
/// so the fake behaves as the real backends do where those tests rely on it.
final class FakeBackendContractTests: ImageBackendContract {
    private var loop: EventLoop?

    override func tearDown() {
        loop?.close()
    }

    override func makeBackend() throws -> BackendUnderTest? {
        let loop = try EventLoop()
        self.loop = loop
        func image(_ name: String) -> ImageSpec { ImageSpec(name: name, ref: "localhost/\(name):latest") }
        let backend = FakeImageBackend()
        backend.endsJobsAtOnce = true
        for name in ["buildable", "failing", "hanging"] { backend.buildable.insert(image(name).ref) }
        backend.failing = [image("failing").ref]
        backend.hanging = [image("hanging").ref]
        return BackendUnderTest(
            loop: loop, backend: backend, buildable: image("buildable"), failing: image("failing"), hanging: image("hanging"),
            removeOutOfBand: { backend.removeOutOfBand($0.ref) })
    }

    /// Outside the contract's mode a job runs until the test ends it, which
    /// is what the coordinator's tests of waiting and coalescing need.
    func testOutsideTheContractModeAJobEndsOnlyWhenTold() {
        let backend = FakeImageBackend()
        let image = ImageSpec(name: "slow", ref: "localhost/slow:latest")
        var answer: Result<ImageJobResult, ImageBackendFailure>?
        backend.build(image, timeoutSeconds: 60) { answer = $0 }
        XCTAssertNil(answer)
        XCTAssertEqual(backend.runningRefs, [image.ref])
        backend.complete(image.ref)
        XCTAssertEqual(try answer?.get().outcome, .built)
        XCTAssertEqual(backend.store[image.ref].map { _ in true }, true)
    }
}
