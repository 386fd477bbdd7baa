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
        XCTAssertTrue(subject.backend.canBuild(subject.buildable))
        let built = wait(subject) { subject.backend.build(subject.buildable, timeoutSeconds: 60, $0) }
        XCTAssertEqual(try built.get().outcome, .built)
        guard case .success(.present) = presence(subject, subject.buildable) else {
            return XCTFail("present after its build")
        }
    }

    func testRemovalMakesAnImageMissing() throws {
        let subject = try backend()
        _ = wait(subject) { subject.backend.build(subject.buildable, timeoutSeconds: 60, $0) }
        let removed = wait(subject) { subject.backend.remove(subject.buildable, $0) }
        XCTAssertNoThrow(try removed.get())
        XCTAssertEqual(presence(subject, subject.buildable), .success(.missing))
    }

    func testAnImageRemovedBehindItsBackIsSeenMissing() throws {
        let subject = try backend()
        _ = wait(subject) { subject.backend.build(subject.buildable, timeoutSeconds: 60, $0) }
        try subject.removeOutOfBand(subject.buildable)
        XCTAssertEqual(presence(subject, subject.buildable), .success(.missing))
    }

    func testAFailedBuildIsAFailureWithItsOutput() throws {
        let subject = try backend()
        let result = wait(subject) { subject.backend.build(subject.failing, timeoutSeconds: 60, $0) }
        guard case .failure(let failure) = result else { return XCTFail("a failing build cannot succeed") }
        XCTAssertEqual(failure.kind, .failed)
        XCTAssertFalse(failure.message.isEmpty)
        XCTAssertTrue(failure.output.contains("step 2 failed"), failure.output)
        XCTAssertEqual(presence(subject, subject.failing), .success(.missing))
    }

    func testABuildPastItsTimeoutIsStoppedAndTimedOut() throws {
        let subject = try backend()
        let began = Date()
        let result = wait(subject) { subject.backend.build(subject.hanging, timeoutSeconds: subject.hangingTimeoutSeconds, $0) }
        guard case .failure(let failure) = result else { return XCTFail("a hanging build cannot succeed") }
        XCTAssertEqual(failure.kind, .timedOut)
        XCTAssertLessThan(Date().timeIntervalSince(began), 10)
    }
}
