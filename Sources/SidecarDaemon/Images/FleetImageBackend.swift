import SidecarConfig
import SidecarCore
import SidecarFleet
import SidecarImages
import SidecarLoop

/// Fleet mode's builds (docs/fleet.md): a build is made once for the whole
/// fleet. The host that claims the image's build key builds it, pushes it
/// to `fleet.registry` and publishes its digest; every other host waits
/// (NOTIFY, and a read of the row every half second, since NOTIFY is never
/// replayed) and pulls it by digest, verified like any pull. A failed build
/// is the fleet's answer until its back-off ends. Everything else is the
/// wrapped backend's.
final class FleetImageBackend: ImageBackend {
    private let inner: ImageBackend
    private let builds: FleetBuilds
    private let link: FleetLink
    private let loop: EventLoop
    private let registry: String
    private var images: DaemonConfig.ImagesConfig
    private let claimTTLSeconds: Double
    private let renewalMilliseconds: UInt64
    private let log: (String) -> Void
    /// For `sidecarctl fleet status`, by build key: the claims this host
    /// holds and the builds it waits on.
    private var claims: [String: String] = [:]
    private var waits: [String: String] = [:]

    var activity: (claims: [String], waits: [String]) {
        (claims.values.sorted(), waits.values.sorted())
    }

    /// How often a waiting host reads the row (NOTIFY usually comes first).
    static let pollMilliseconds: UInt64 = 500

    init(inner: ImageBackend, fleet: FleetService, loop: EventLoop, images: DaemonConfig.ImagesConfig, log: @escaping (String) -> Void) {
        self.inner = inner
        self.loop = loop
        link = fleet.link
        registry = fleet.settings.registry
        self.images = images
        claimTTLSeconds = fleet.settings.claimTTLSeconds
        renewalMilliseconds = UInt64(fleet.settings.claimTTLSeconds * 1000 / 4)
        builds = FleetBuilds(link: fleet.link, hostID: fleet.hostID, timeoutMilliseconds: UInt64(fleet.settings.queryTimeoutSeconds * 1000))
        self.log = log
    }

    // MARK: The fleet's build

    func build(_ image: ImageSpec, timeoutSeconds: Double, _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void) {
        let deadline = WallClock.unixSeconds() + timeoutSeconds
        FleetBuildKey.make(for: image, images: images, backend: inner, loop: loop) { [self] key in
            guard let key else { return buildHere(image, timeoutSeconds: timeoutSeconds, why: "its build key cannot be made", done) }
            claim(image, key: key, deadline: deadline, done)
        }
    }

    private func claim(_ image: ImageSpec, key: String, deadline: Double, _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void) {
        guard link.isUsable else {
            return buildHere(image, key: key, timeoutSeconds: deadline - WallClock.unixSeconds(), why: "the fleet is unreachable", done)
        }
        builds.claim(key: key, image: image.name, now: WallClock.unixSeconds(), ttlSeconds: claimTTLSeconds) { [self] result in
            switch result {
            case .success(let row): act(on: row, image, key: key, deadline: deadline, done)
            case .failure(let failure):
                buildHere(image, key: key, timeoutSeconds: deadline - WallClock.unixSeconds(), why: "the fleet did not answer (\(failure))", done)
            }
        }
    }

    private func act(
        on row: FleetBuilds.Row, _ image: ImageSpec, key: String, deadline: Double,
        _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void
    ) {
        switch row.state {
        case .published: pullPublished(image, row, deadline: deadline, done)
        case .failed where row.failedUntil > WallClock.unixSeconds(): done(.failure(Self.sharedFailure(row, image)))
        // Its back-off is over: this host may try again.
        case .failed: claim(image, key: key, deadline: deadline, done)
        case .claimed: buildAndPublish(image, key: key, epoch: row.epoch, deadline: deadline, done)
        case .building, .free: wait(image, key: key, holder: row.claimedBy, deadline: deadline, done)
        }
    }

    /// Waits for the claim's holder: its publish, its failure, or its end
    /// (then this host claims the key itself).
    private func wait(
        _ image: ImageSpec, key: String, holder: String, deadline: Double,
        _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void
    ) {
        var finished = false
        var reading = false
        var token: UInt64 = 0
        let timer: LoopTimer
        do {
            timer = try LoopTimer(loop: loop)
        } catch {
            return done(.failure(ImageBackendFailure(.unavailable, "cannot wait for the fleet's build: \(error)")))
        }
        waits[key] = "\(image.name) (claimed by \(holder.isEmpty ? "nobody yet" : holder))"
        let end = { [self] (next: () -> Void) in
            guard !finished else { return }
            finished = true
            waits[key] = nil
            timer.close()
            builds.stopWatching(key: key, token: token)
            next()
        }
        let look = { [self] in
            guard !finished, !reading else { return }
            let now = WallClock.unixSeconds()
            guard now < deadline else {
                return end { done(.failure(ImageBackendFailure(.timedOut, "the fleet's build of \(image.ref) did not end in time"))) }
            }
            guard link.isUsable else {
                return end { buildHere(image, key: key, timeoutSeconds: deadline - now, why: "the fleet became unreachable", done) }
            }
            reading = true
            builds.read(key: key, now: now) { [self] result in
                reading = false
                guard !finished, case .success(let row?) = result else { return }
                switch row.state {
                case .building, .claimed: break
                case .published, .failed: end { act(on: row, image, key: key, deadline: deadline, done) }
                case .free: end { claim(image, key: key, deadline: deadline, done) }
                }
            }
        }
        token = builds.watch(key: key) { look() }
        // Jittered, so that the waiters of many hosts do not read in step.
        let first = UInt64.random(in: 0...Self.pollMilliseconds)
        timer.start(after: first, repeat: Self.pollMilliseconds) { look() }
    }

    private func buildAndPublish(
        _ image: ImageSpec, key: String, epoch: Int64, deadline: Double,
        _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void
    ) {
        var claimLost = false
        claims[key] = "\(image.name) (epoch \(epoch))"
        let renewal = try? LoopTimer(loop: loop)
        renewal?.start(after: renewalMilliseconds, repeat: renewalMilliseconds) { [self] in
            builds.renew(key: key, epoch: epoch, now: WallClock.unixSeconds(), ttlSeconds: claimTTLSeconds) { [self] result in
                if case .success(false) = result, !claimLost {
                    claimLost = true
                    log("fleet: the build claim of \(image.ref) (epoch \(epoch)) was lost; stopping this build to wait for the fleet's")
                    inner.stopBuild(of: image)
                }
            }
        }
        inner.build(image, timeoutSeconds: deadline - WallClock.unixSeconds()) { [self] built in
            renewal?.close()
            claims[key] = nil
            let now = WallClock.unixSeconds()
            switch built {
            case .failure where claimLost:
                // Stopped (or failed) after another host took the build
                // over: its result is this host's answer too.
                wait(image, key: key, holder: "another host", deadline: deadline, done)
            case .failure(let failure):
                recordFailure(failure, of: image, key: key, epoch: epoch, deadline: deadline)
                done(.failure(failure))
            case .success(let made) where claimLost:
                done(.success(made))
            case .success(let made):
                let target = published(image, tag: key)
                inner.publish(image, to: target, timeoutSeconds: max(1, deadline - now)) { [self] pushed in
                    // This host has its image either way; the others learn of
                    // it, or of why they do not have it, as soon as it is recorded.
                    done(.success(made))
                    switch pushed {
                    case .success(let digest):
                        let ref = published(image, digest: digest)
                        record("publish", of: image, epoch: epoch, deadline: deadline) { [builds] in
                            builds.publish(key: key, epoch: epoch, digest: digest, ref: ref, now: WallClock.unixSeconds(), $0)
                        }
                    case .failure(let failure):
                        let failed = ImageBackendFailure(failure.kind, "built, but not published to \(target): \(failure.message)", output: failure.output)
                        recordFailure(failed, of: image, key: key, epoch: epoch, deadline: deadline)
                    }
                }
            }
        }
    }

    /// Where `image` of build key `key` is pushed, and the reference by
    /// which the others pull it.
    private func published(_ image: ImageSpec, tag key: String) -> String {
        "\(registry)/fleet/\(Self.repository(image.name)):\(key.prefix(24))"
    }

    private func published(_ image: ImageSpec, digest: String) -> String {
        "\(registry)/fleet/\(Self.repository(image.name))@\(digest)"
    }

    /// The claim ends failed: every host's answer until the back-off ends.
    private func recordFailure(_ failure: ImageBackendFailure, of image: ImageSpec, key: String, epoch: Int64, deadline: Double) {
        let until = WallClock.unixSeconds() + images.failureBackoffSeconds
        record("failure", of: image, epoch: epoch, deadline: deadline) { [builds] in
            builds.fail(key: key, epoch: epoch, error: Self.text(of: failure), until: until, now: WallClock.unixSeconds(), $0)
        }
    }

    /// Records how a claim ended. While PostgreSQL cannot be reached it
    /// tries again every half second until the job's deadline, so a build
    /// that ended during a blip is not lost to the fleet (the epoch guard
    /// makes a late record harmless).
    private func record(
        _ what: String, of image: ImageSpec, epoch: Int64, deadline: Double, tries: Int = 0,
        _ call: @escaping (@escaping FleetBuilds.Done<Bool>) -> Void
    ) {
        call { [self] result in
            switch result {
            case .success(true):
                if tries > 0 { log("fleet: recorded the \(what) of \(image.ref) (epoch \(epoch)) after \(tries) retries") }
            case .success(false):
                log("fleet: \(image.ref) was built here but its claim (epoch \(epoch)) was lost: its \(what) changes nothing; the fleet keeps the other build")
            case .failure(let failure):
                guard WallClock.unixSeconds() < deadline, let timer = try? LoopTimer(loop: loop) else {
                    return log("fleet: could not record the \(what) of \(image.ref) (epoch \(epoch)): \(failure)")
                }
                if tries == 0 { log("fleet: recording the \(what) of \(image.ref) (epoch \(epoch)) failed, trying again: \(failure)") }
                timer.start(after: Self.pollMilliseconds) { [self] in
                    timer.close()
                    record(what, of: image, epoch: epoch, deadline: deadline, tries: tries + 1, call)
                }
            }
        }
    }

    private func pullPublished(
        _ image: ImageSpec, _ row: FleetBuilds.Row, deadline: Double,
        _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void
    ) {
        var source = image
        source.pull = row.publishedRef
        inner.pull(source, timeoutSeconds: max(1, deadline - WallClock.unixSeconds())) { result in
            switch result {
            case .success(var made) where made.outcome != .stale:
                // Pulled by digest: the registry's content is checked by
                // the puller. The id stays the backend's own (the Docker
                // engine's image id is its config's digest).
                made.outcome = .pulled
                if made.id.isEmpty { made.id = row.digest }
                made.detail = "built by \(row.claimedBy)"
                done(.success(made))
            default:
                done(result)
            }
        }
    }

    /// Where the fleet cannot help (unreachable, no key), the host builds
    /// alone, as without fleet mode; unreachable, it first waits a moment
    /// (hosts that lost PostgreSQL together do not all start at once) and
    /// looks for the key's image in the fleet's registry, which another
    /// host may have pushed.
    private func buildHere(
        _ image: ImageSpec, key: String? = nil, timeoutSeconds: Double, why: String,
        _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void
    ) {
        let build = { [self] in
            log("fleet: building \(image.ref) on this host alone: \(why)")
            inner.build(image, timeoutSeconds: max(1, timeoutSeconds), done)
        }
        guard let key, let timer = try? LoopTimer(loop: loop) else { return build() }
        timer.start(after: UInt64.random(in: 0...Self.degradedWaitMilliseconds)) { [self] in
            timer.close()
            var source = image
            source.pull = published(image, tag: key)
            inner.pull(source, timeoutSeconds: min(30, max(1, timeoutSeconds))) { pulled in
                guard case .success(var made) = pulled, made.outcome != .stale else { return build() }
                made.outcome = .pulled
                made.detail = "found in the fleet's registry (the fleet is unreachable)"
                done(.success(made))
            }
        }
    }

    /// The longest a degraded host waits before it looks and builds.
    static let degradedWaitMilliseconds: UInt64 = 1000

    private static func sharedFailure(_ row: FleetBuilds.Row, _ image: ImageSpec) -> ImageBackendFailure {
        let seconds = Int(max(0, row.failedUntil - WallClock.unixSeconds()).rounded(.up))
        return ImageBackendFailure(
            .failed, "the fleet's build of \(image.ref) failed on \(row.claimedBy) (no new try for \(seconds) s): \(row.error)")
    }

    private static func text(of failure: ImageBackendFailure) -> String {
        failure.output.isEmpty ? failure.message : "\(failure.message)\n\(failure.output.suffix(4000))"
    }

    /// A repository path component: lowercase, [a-z0-9._-].
    static func repository(_ name: String) -> String {
        String(name.lowercased().map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "-" })
    }

    // MARK: The wrapped backend

    var summary: String { inner.summary + ", builds shared by the fleet through \(registry)" }
    func start() throws { try inner.start() }
    func configure(_ images: DaemonConfig.ImagesConfig) {
        self.images = images
        inner.configure(images)
    }
    func close() { inner.close() }
    var reportsEvents: Bool { inner.reportsEvents }
    var onEvent: ((ImageBackendEvent) -> Void)? {
        get { inner.onEvent }
        set { inner.onEvent = newValue }
    }
    func deliverPendingEvents() { inner.deliverPendingEvents() }
    func presence(of image: ImageSpec, _ done: @escaping (Result<ImagePresence, ImageBackendFailure>) -> Void) {
        inner.presence(of: image, done)
    }
    func canBuild(_ image: ImageSpec) -> Bool { inner.canBuild(image) }
    func canPull(_ image: ImageSpec) -> Bool { inner.canPull(image) }
    func pull(_ image: ImageSpec, timeoutSeconds: Double, _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void) {
        inner.pull(image, timeoutSeconds: timeoutSeconds, done)
    }
    func remove(_ image: ImageSpec, _ done: @escaping (Result<Void, ImageBackendFailure>) -> Void) { inner.remove(image, done) }
    func collectGarbage(dryRun: Bool, _ done: @escaping (Result<PruneReport, ImageBackendFailure>) -> Void) {
        inner.collectGarbage(dryRun: dryRun, done)
    }
    var presenceTracking: String { inner.presenceTracking }
    var canScrub: Bool { inner.canScrub }
    func scrub(refs: [String], bytesPerSecond: Double, _ done: @escaping (Result<ScrubReport, ImageBackendFailure>) -> Void) {
        inner.scrub(refs: refs, bytesPerSecond: bytesPerSecond, done)
    }
}
