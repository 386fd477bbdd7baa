import SidecarConfig
import SidecarCore
import SidecarImages
import SidecarTestSupport
import XCTest

final class ImageCoordinatorTests: XCTestCase {
    private var clock = FakeClock()
    private var backend = FakeImageBackend()

    private func image(_ name: String, base: String = "", keepWarm: Bool = false) -> DaemonConfig.ImageSpec {
        var spec = DaemonConfig.ImageSpec(name: name, ref: "localhost/\(name):latest")
        spec.base = base
        spec.keepWarm = keepWarm
        spec.build = ["./build.sh", name]
        return spec
    }

    private func coordinator(_ specs: [DaemonConfig.ImageSpec], builds: Int = 2, configure: (inout DaemonConfig.ImagesConfig) -> Void = { _ in })
        -> ImageCoordinator
    {
        var images = DaemonConfig.ImagesConfig()
        images.images = specs
        images.maxConcurrentBuilds = builds
        configure(&images)
        for spec in specs { backend.buildable.insert(spec.ref) }
        return ImageCoordinator(images: images, backend: backend, clock: clock, classifier: ErrorClassifier())
    }

    func testConcurrentCallersShareOneBuildAndAreToldTheyJoined() {
        let images = coordinator([image("agent")])
        let answers = Answers()
        for _ in 0..<200 { images.ensure("agent", reply: answers.reply()) }
        XCTAssertEqual(backend.started.count, 1)
        XCTAssertTrue(answers.results.isEmpty, "nobody is answered before the build ends")
        backend.complete("localhost/agent:latest")
        XCTAssertEqual(answers.successes.count, 200)
        XCTAssertTrue(answers.successes.allSatisfy { $0.outcome == .built })
        XCTAssertEqual(answers.successes.filter { !$0.coalesced }.count, 1)
        XCTAssertEqual(backend.started.count, 1)

        let later = Answers()
        images.ensure("localhost/agent:latest", reply: later.reply())
        XCTAssertEqual(later.successes.first?.outcome, .present, "a ref names the configured image too")
        XCTAssertEqual(backend.started.count, 1)
    }

    func testBaseIsMadeBeforeTheImagesBuiltOnIt() {
        let images = coordinator([image("base"), image("derived", base: "base")])
        let answers = Answers()
        images.ensure("derived", reply: answers.reply())
        XCTAssertEqual(backend.started.map(\.ref), ["localhost/base:latest"])
        backend.complete("localhost/base:latest")
        XCTAssertEqual(backend.started.map(\.ref), ["localhost/base:latest", "localhost/derived:latest"])
        backend.complete("localhost/derived:latest")
        XCTAssertEqual(answers.successes.map(\.outcome), [.built])
    }

    func testAFailedBaseFailsTheDerivedImageWithoutBuildingIt() {
        let images = coordinator([image("base"), image("derived", base: "base")])
        let answers = Answers()
        images.ensure("derived", reply: answers.reply())
        backend.complete("localhost/base:latest", failure: ImageBackendFailure(.failed, "build exited with status 1", output: "boom"))
        XCTAssertEqual(backend.started.map(\.ref), ["localhost/base:latest"])
        XCTAssertEqual(answers.failures.first?.code, .unavailable, "an unclassified failure is transient")
        XCTAssertTrue(answers.failures.first?.message.contains("base image base of derived") ?? false)
    }

    func testBuildsWaitForTheCapInArrivalOrder() {
        let images = coordinator([image("a"), image("b"), image("c"), image("d")], builds: 2)
        for name in ["a", "b", "c", "d"] { images.ensure(name) { _ in } }
        XCTAssertEqual(backend.runningRefs, ["localhost/a:latest", "localhost/b:latest"])
        XCTAssertEqual(images.list().map(\.state), [.building, .building, .queued, .queued])
        backend.complete("localhost/b:latest")
        XCTAssertEqual(backend.runningRefs, ["localhost/a:latest", "localhost/c:latest"])
        backend.complete("localhost/a:latest")
        XCTAssertEqual(backend.runningRefs, ["localhost/c:latest", "localhost/d:latest"])
    }

    func testAFailureBacksOffGrowingThenBuildsAfresh() {
        let images = coordinator([image("agent")]) {
            $0.failureBackoffSeconds = 10
            $0.failureBackoffMaxSeconds = 25
        }
        let failure = ImageBackendFailure(.failed, "build exited with status 2", output: "step 3: no such file")
        let first = Answers()
        images.ensure("agent", reply: first.reply())
        images.ensure("agent", reply: first.reply())
        backend.complete("localhost/agent:latest", failure: failure)
        XCTAssertEqual(first.failures.count, 2, "every waiter gets the failure")
        XCTAssertEqual(first.failures[0], first.failures[1])
        XCTAssertTrue(first.failures[0].message.contains("step 3: no such file"), "the output is in the answer")
        XCTAssertEqual(first.failures[0].detail?.category, "build_failed")
        XCTAssertEqual(first.failures[0].detail?.retryAfterSeconds, 10)

        clock.advance(4)
        let during = Answers()
        images.ensure("agent", reply: during.reply())
        XCTAssertEqual(during.failures.first?.code, .unavailable, "the back-off answers what the failure was")
        XCTAssertEqual(during.failures.first?.detail?.category, "build_failed")
        XCTAssertEqual(during.failures.first?.detail?.retryAfterSeconds ?? 0, 6, accuracy: 0.001)
        XCTAssertEqual(backend.started.count, 1, "no new build during the back-off")
        XCTAssertEqual(images.list().first?.state, .backingOff)

        clock.advance(6)
        images.ensure("agent") { _ in }
        XCTAssertEqual(backend.started.count, 2, "after the back-off the next call builds again")
        backend.complete("localhost/agent:latest", failure: failure)
        XCTAssertEqual(images.list().first?.backoffRemainingSeconds, 20, "the back-off doubled")
        clock.advance(20)
        images.ensure("agent") { _ in }
        backend.complete("localhost/agent:latest", failure: failure)
        XCTAssertEqual(images.list().first?.backoffRemainingSeconds, 25, "and is capped")

        clock.advance(25)
        let success = Answers()
        images.ensure("agent", reply: success.reply())
        backend.complete("localhost/agent:latest")
        XCTAssertEqual(success.successes.first?.outcome, .built)
        XCTAssertEqual(images.list().first?.lastError, "", "success forgets the failure")
        XCTAssertEqual(images.list().first?.backoffRemainingSeconds, 0)
    }

    /// Issue 13: the classifier's verdict on the tool's output decides,
    /// configured ref or ad hoc alike, and the back-off answers the same.
    func testAPullFailureIsAnsweredAsItsClassificationSaysConfiguredOrNot() {
        var configured = DaemonConfig.ImageSpec(name: "tools", ref: "tools:1")
        configured.pull = "registry.example:5000/agent/tools:1"
        let adHoc = "registry.example:5000/agent/other:2"
        let skopeo = #"time="2026-12-01T08:09:00Z" level=fatal msg="initializing source docker://X: "#
        let cases: [(output: String, code: StatusCode, category: String, permanent: Bool, delay: Double)] = [
            (skopeo + #"pinging container registry registry.example:5000: Get \"http://registry.example:5000/v2/\": dial tcp 127.0.0.1:5000: connect: connection refused""#,
             .unavailable, "registry_unavailable", false, 10),
            (skopeo + #"reading manifest 1 in registry.example:5000/agent/tools: manifest unknown: manifest unknown""#,
             .notFound, "image_not_found", true, 10),
            (skopeo + #"reading manifest 1 in registry.example:5000/agent/tools: unauthorized: authentication required""#,
             .failedPrecondition, "registry_auth", true, 10),
            (skopeo + #"Get \"https://registry.example:5000/v2/\": x509: certificate signed by unknown authority""#,
             .failedPrecondition, "registry_tls", true, 10),
            (skopeo + #"reading manifest 1 in registry.example:5000/agent/tools: toomanyrequests: You have reached your pull rate limit""#,
             .unavailable, "rate_limited", false, 60),
            ("GET https://ghcr.io/v2/agent/tools/manifests/1: TOOMANYREQUESTS: retry-after: 2m, allowed: 44000/minute",
             .unavailable, "rate_limited", false, 120),
        ]
        for (output, code, category, permanent, delay) in cases {
            for ref in ["tools", adHoc] {
                clock = FakeClock()
                backend = FakeImageBackend()
                backend.pullable = [configured.ref, adHoc]
                let images = coordinator([configured]) {
                    $0.failureBackoffSeconds = 10
                    $0.failureBackoffMaxSeconds = 300
                }
                backend.buildable = []
                let used = ref == "tools" ? configured.pull : adHoc
                let answers = Answers()
                images.ensure(ref, reply: answers.reply())
                backend.complete(ref == "tools" ? configured.ref : adHoc, failure: ImageBackendFailure(
                    .failed, "skopeo copy from \(used) exited with status 1", output: output))
                let what = "\(category) for \(ref)"
                let failure = answers.failures.first
                XCTAssertEqual(failure?.code, code, what)
                XCTAssertEqual(failure?.detail?.category, category, what)
                XCTAssertEqual(failure?.detail?.permanent, permanent, what)
                XCTAssertEqual(failure?.detail?.retryAfterSeconds, delay, what)
                XCTAssertTrue(failure?.detail?.remedy.contains(used) ?? false, "\(what): \(failure?.detail?.remedy ?? "")")
                XCTAssertFalse(failure?.detail?.remedy.contains("2026") ?? true, what)

                clock.advance(delay / 2)
                let later = Answers()
                images.ensure(ref, reply: later.reply())
                XCTAssertEqual(later.failures.first?.code, code, "the back-off answers the same: \(what)")
                XCTAssertEqual(later.failures.first?.detail?.category, category, what)
                XCTAssertEqual(later.failures.first?.detail?.permanent, permanent, what)
                XCTAssertEqual(later.failures.first?.detail?.retryAfterSeconds ?? 0, delay / 2, accuracy: 0.001, what)
                XCTAssertEqual(backend.started.count, 1, "no new pull while backing off: \(what)")
                clock.advance(delay / 2)
                images.ensure(ref) { _ in }
                XCTAssertEqual(backend.started.count, 2, "a fresh pull once the delay is over: \(what)")
            }
        }
    }

    func testACancelledWaiterLeavesTheJobRunningForTheOthers() {
        let images = coordinator([image("agent")])
        let leaving = Answers()
        let staying = Answers()
        let token = images.ensure("agent", reply: leaving.reply())
        images.ensure("agent", reply: staying.reply())
        images.leave(try! XCTUnwrap(token))
        XCTAssertEqual(backend.runningRefs, ["localhost/agent:latest"], "the job goes on")
        backend.complete("localhost/agent:latest")
        XCTAssertTrue(leaving.results.isEmpty)
        XCTAssertEqual(staying.successes.count, 1)
    }

    func testAJobIsNotCancelledWhenEveryWaiterLeaves() {
        let images = coordinator([image("agent")])
        let token = images.ensure("agent") { _ in }
        images.leave(try! XCTUnwrap(token))
        backend.complete("localhost/agent:latest")
        XCTAssertEqual(images.list().first?.present, true)
    }

    func testPresenceIsTrustedForTheTTLThenCheckedAgain() {
        let images = coordinator([image("agent")]) { $0.presenceTTLSeconds = 5 }
        backend.store["localhost/agent:latest"] = "sha256:1"
        let answers = Answers()
        images.ensure("agent", reply: answers.reply())
        images.ensure("agent", reply: answers.reply())
        XCTAssertEqual(backend.presenceChecks, 1)
        XCTAssertEqual(answers.successes.map(\.outcome), [.present, .present])
        XCTAssertEqual(answers.successes.first?.id, "sha256:1")
        clock.advance(5)
        backend.removeOutOfBand("localhost/agent:latest")
        images.ensure("agent", reply: answers.reply())
        XCTAssertEqual(backend.presenceChecks, 2)
        XCTAssertEqual(backend.started.count, 1, "found gone after the TTL, and rebuilt")
    }

    func testAnEventRemovalIsSeenAndAKeepWarmImageIsRebuiltUnasked() {
        backend.reportsEvents = true
        let images = coordinator([image("agent", keepWarm: true)])
        var events: [String] = []
        images.onEvent = { events.append($0.topic) }
        images.tick()
        XCTAssertEqual(backend.started.count, 1, "a keep_warm image is made at start")
        backend.complete("localhost/agent:latest")
        clock.advance(3600)
        images.tick()
        XCTAssertEqual(backend.started.count, 1, "with events, presence needs no re-check")

        backend.removeOutOfBand("localhost/agent:latest")
        XCTAssertEqual(backend.started.count, 2)
        XCTAssertTrue(events.contains("image.removed"))
        XCTAssertEqual(events.filter { $0 == "image.job.finished" }.count, 1)
    }

    func testAChangeMadeBeforeACallIsHeardBeforeThatCallIsAnswered() {
        backend.reportsEvents = true
        let answers = Answers()
        let images = coordinator([image("agent")])
        backend.store["localhost/agent:latest"] = "sha256:1"
        images.ensure("agent", reply: answers.reply())
        images.ensure("agent", reply: answers.reply())
        XCTAssertEqual(backend.presenceChecks, 1, "known present: no second check")
        // Made, but its event still in the kernel's queue: the call reads it first.
        backend.queuedEvents = [.changed(refs: ["localhost/agent:latest"], reason: "blob truncated")]
        images.ensure("agent", reply: answers.reply())
        XCTAssertEqual(backend.presenceChecks, 2, "the change was heard before the answer")
        images.ensure("agent", reply: answers.reply())
        XCTAssertEqual(backend.presenceChecks, 2, "checked once, known present again")
        XCTAssertEqual(answers.successes.map(\.outcome), [.present, .present, .present, .present])
    }

    func testAChangeHeardWhileACheckRanKeepsItsResultOutOfTheCache() {
        backend.reportsEvents = true
        let answers = Answers()
        let images = coordinator([image("agent")])
        backend.store["localhost/agent:latest"] = "sha256:1"
        let fake = backend
        fake.duringPresenceCheck = {
            fake.queuedEvents = [.changed(refs: ["localhost/agent:latest"], reason: "written while hashed")]
            fake.duringPresenceCheck = nil
        }
        images.ensure("agent", reply: answers.reply())
        images.ensure("agent", reply: answers.reply())
        XCTAssertEqual(backend.presenceChecks, 2, "the first check may have read the blob before the change: not trusted")
        images.ensure("agent", reply: answers.reply())
        XCTAssertEqual(backend.presenceChecks, 2)
    }

    func testAResynchronizationDoubtsEveryImage() {
        backend.reportsEvents = true
        let answers = Answers()
        let images = coordinator([image("agent"), image("tool")])
        backend.store["localhost/agent:latest"] = "sha256:1"
        backend.store["localhost/tool:latest"] = "sha256:2"
        images.ensure("agent", reply: answers.reply())
        images.ensure("tool", reply: answers.reply())
        backend.queuedEvents = [.resynchronized]
        images.ensure("agent", reply: answers.reply())
        images.ensure("tool", reply: answers.reply())
        XCTAssertEqual(backend.presenceChecks, 4)
    }

    func testAKeepWarmImageFoundGoneByTheTTLCheckIsRebuilt() {
        let images = coordinator([image("agent", keepWarm: true)]) { $0.presenceTTLSeconds = 2 }
        backend.store["localhost/agent:latest"] = "sha256:1"
        images.tick()
        XCTAssertEqual(backend.started.count, 0)
        backend.removeOutOfBand("localhost/agent:latest")
        clock.advance(1)
        images.tick()
        XCTAssertEqual(backend.started.count, 0, "inside the TTL nothing is checked")
        clock.advance(1)
        images.tick()
        XCTAssertEqual(backend.started.map(\.ref), ["localhost/agent:latest"])
    }

    func testAnUnknownRefIsPulledAndOneThatCannotBeIsNotFoundAtOnce() {
        let images = coordinator([])
        let answers = Answers()
        images.ensure("registry.example/tools:1", reply: answers.reply())
        XCTAssertEqual(answers.failures.first?.code, .notFound, "no pull possible")
        XCTAssertEqual(answers.failures.first?.detail?.permanent, true)

        backend.pullable.insert("registry.example/other:2")
        let pulled = Answers()
        images.ensure("registry.example/other:2", reply: pulled.reply())
        XCTAssertEqual(backend.started.first?.kind, .pull)
        backend.complete("registry.example/other:2", failure: ImageBackendFailure(.failed, "manifest unknown"))
        XCTAssertEqual(pulled.failures.first?.code, .notFound)
        XCTAssertFalse(pulled.failures.first?.detail?.remedy.isEmpty ?? true)
    }

    func testABadReferenceIsRefusedBeforeAnyBackendCall() {
        let images = coordinator([image("agent")])
        let answers = Answers()
        for bad in ["--rm", "", "a b", "x;rm -rf /", String(repeating: "a", count: 300)] {
            images.ensure(bad, reply: answers.reply())
        }
        XCTAssertEqual(answers.failures.map(\.code), Array(repeating: .invalidArgument, count: 5))
        XCTAssertEqual(backend.presenceChecks, 0)
    }

    /// A transport prefix would make the pull tool read a local path of the
    /// client's choosing (`oci:`, `dir:`, `docker-archive:`) or a source it
    /// names (`docker://`); none is a reference.
    func testATransportIsNotAReferenceAndNothingIsPulled() {
        backend.pullable = ["oci:/root/layout:x", "docker-archive:/etc/passwd"]
        let images = coordinator([image("agent")])
        let answers = Answers()
        let transports = ["oci:/root/layout:x", "dir:/root", "docker-archive:/etc/passwd", "docker://evil.example/x:1", "oci-archive:/tmp/a.tar"]
        for bad in transports { images.ensure(bad, reply: answers.reply()) }
        XCTAssertEqual(answers.failures.map(\.code), Array(repeating: .invalidArgument, count: transports.count))
        XCTAssertEqual(backend.presenceChecks, 0)
        XCTAssertTrue(backend.started.isEmpty)
    }

    func testABuildThatEndsWellWithoutTheImageIsAFailure() {
        let images = coordinator([image("agent")])
        backend.storesWhatItMakes = false
        let answers = Answers()
        images.ensure("agent", reply: answers.reply())
        backend.complete("localhost/agent:latest")
        XCTAssertEqual(answers.failures.first?.code, .unavailable)
        XCTAssertTrue(answers.failures.first?.message.contains("not in the store") ?? false)
        XCTAssertEqual(images.list().first?.present, false)
    }

    func testPruneKeepsLeasedAndKeepWarmImages() {
        let images = coordinator([image("leased"), image("free"), image("warm", keepWarm: true)]) {
            $0.pruneUnusedAfterSeconds = 60
        }
        for name in ["leased", "free", "warm"] { backend.store["localhost/\(name):latest"] = "id" }
        for name in ["leased", "free", "warm"] { images.ensure(name) { _ in } }
        images.isLeased = { $0.contains("leased") }
        var report: PruneReport?
        images.prune(dryRun: false) { report = $0 }
        XCTAssertEqual(report?.removed, [], "recently used images stay")
        clock.advance(61)
        images.prune(dryRun: true) { report = $0 }
        XCTAssertEqual(report?.removed, ["free"])
        XCTAssertTrue(backend.removed.isEmpty, "a dry run removes nothing")
        images.prune(dryRun: false) { report = $0 }
        XCTAssertEqual(report?.removed, ["free"])
        XCTAssertEqual(report?.keptLeased, ["leased"])
        XCTAssertEqual(backend.removed, ["localhost/free:latest"])
    }
}
