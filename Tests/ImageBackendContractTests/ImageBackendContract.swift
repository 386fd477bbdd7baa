import Foundation
import SidecarConfig
import SidecarImages
import SidecarLoop
import XCTest

/// What a backend's contract tests are given: the backend on its loop, and
/// three images it knows how to make: one that builds, one whose build
/// fails (its output says "step 2 failed"), one whose build outlives
/// `hangingTimeoutSeconds`.
struct BackendUnderTest {
    let loop: EventLoop
    let backend: ImageBackend
    let buildable: ImageSpec
    let failing: ImageSpec
    let hanging: ImageSpec
    /// A time-out the hanging image's build cannot meet.
    var hangingTimeoutSeconds = 0.5
    /// How the backend makes images: a build, or a pull from the image's source.
    var makes = ImageJobKind.build
    /// What the failing image's output says.
    var failureSays = "step 2 failed"
    /// Marks as missing from the store behind the backend's back.
    let removeOutOfBand: (ImageSpec) throws -> Void
}

/// The contract every `ImageBackend` keeps, whatever its store. A backend's
/// test class subclasses this and returns its real backend from
/// `makeBackend`; the base class alone runs nothing.
class ImageBackendContract: XCTestCase {
    func makeBackend() throws -> BackendUnderTest? { nil }

    private func backend() throws -> BackendUnderTest {
        guard let made = try makeBackend() else { throw XCTSkip("the contract itself; its subclasses run it") }
        return made
    }

    private func make(_ subject: BackendUnderTest, _ image: ImageSpec, timeoutSeconds: Double = 60)
        -> Result<ImageJobResult, ImageBackendFailure>
    {
        wait(subject) {
            switch subject.makes {
            case .build: subject.backend.build(image, timeoutSeconds: timeoutSeconds, $0)
            case .pull: subject.backend.pull(image, timeoutSeconds: timeoutSeconds, $0)
            }
        }
    }

    /// Starts an operation and runs the loop until it has answered.
    private func wait<T>(_ subject: BackendUnderTest, _ start: (@escaping (T) -> Void) -> Void) -> T {
        var answer: T?
        start { answer = $0 }
        while answer == nil { subject.loop.run() }
        return answer!
    }

    private func presence(_ subject: BackendUnderTest, _ image: ImageSpec) -> Result<ImagePresence, ImageBackendFailure> {
        wait(subject) { subject.backend.presence(of: image, $0) }
    }

    func testAMissingImageIsMissingAndABuildMakesItPresent() throws {
        let subject = try backend()
        XCTAssertEqual(presence(subject, subject.buildable), .success(.missing))
        XCTAssertTrue(subject.makes == .build ? subject.backend.canBuild(subject.buildable) : subject.backend.canPull(subject.buildable))
        let made = make(subject, subject.buildable)
        XCTAssertEqual(try made.get().outcome, subject.makes == .build ? .built : .pulled)
        guard case .success(.present) = presence(subject, subject.buildable) else {
            return XCTFail("present after its build")
        }
    }

    func testRemovalMakesAnImageMissing() throws {
        let subject = try backend()
        _ = make(subject, subject.buildable)
        let removed = wait(subject) { subject.backend.remove(subject.buildable, $0) }
        XCTAssertNoThrow(try removed.get())
        XCTAssertEqual(presence(subject, subject.buildable), .success(.missing))
    }

    func testAnImageRemovedBehindItsBackIsSeenMissing() throws {
        let subject = try backend()
        _ = make(subject, subject.buildable)
        try subject.removeOutOfBand(subject.buildable)
        // Missing, or (for a store that remembers what it held) damaged.
        let seen = presence(subject, subject.buildable)
        guard case .success(let state) = seen else { return XCTFail("\(seen)") }
        if case .present = state { XCTFail("still present after its removal behind the backend's back") }
    }

    func testAFailedBuildIsAFailureWithItsOutput() throws {
        let subject = try backend()
        let result = make(subject, subject.failing)
        guard case .failure(let failure) = result else { return XCTFail("a failing build cannot succeed") }
        XCTAssertEqual(failure.kind, .failed)
        XCTAssertFalse(failure.message.isEmpty)
        XCTAssertTrue(failure.output.contains(subject.failureSays), failure.output)
        XCTAssertEqual(presence(subject, subject.failing), .success(.missing))
    }

    func testABuildPastItsTimeoutIsStoppedAndTimedOut() throws {
        let subject = try backend()
        let began = Date()
        let result = make(subject, subject.hanging, timeoutSeconds: subject.hangingTimeoutSeconds)
        guard case .failure(let failure) = result else { return XCTFail("a hanging build cannot succeed") }
        XCTAssertEqual(failure.kind, .timedOut)
        XCTAssertLessThan(Date().timeIntervalSince(began), 10)
    }
}
