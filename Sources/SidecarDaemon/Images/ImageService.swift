import Foundation
import SidecarConfig
import SidecarCore
import SidecarImageBackends
import SidecarImages
import SidecarLoop
import SidecarWire

/// EnsureImage, ListImages and Prune on the daemon: the coordinator over the
/// configured backend, its events on the bus, leases that block removal, and
/// a one-second tick for `keep_warm` images and lease expiry.
final class ImageService: DaemonService {
    static let tickMilliseconds: UInt64 = 1000

    let leases: LeaseService
    private let context: DaemonContext
    private let backend: ImageBackend
    private let coordinator: ImageCoordinator
    private let timer: LoopTimer
    private var pruning = false
    private var lastPruneNanoseconds = EventLoop.monotonicNanoseconds()
    private var lastScrubNanoseconds = EventLoop.monotonicNanoseconds()
    /// For the metrics: when the last scrub ended, and what it found.
    private(set) var lastScrub: (endUnixSeconds: Double, report: ScrubReport)?

    init(loop: EventLoop, context: DaemonContext, fleet: FleetService?) throws {
        self.context = context
        leases = try LeaseService(loop: loop, context: context)
        let images = context.config.images
        let logger = context.logger
        let local = try ImageBackends.make(
            context.config, loop: loop, database: context.state, environment: ProcessInfo.processInfo.environment,
            logger: { logger.info("\($0)") })
        if let fleet, !fleet.settings.registry.isEmpty {
            let shared = FleetImageBackend(inner: local, fleet: fleet, loop: loop, images: images, log: { logger.info("\($0)") })
            fleet.buildActivity = { [unowned shared] in shared.activity }
            backend = shared
        } else {
            backend = local
        }
        coordinator = ImageCoordinator(images: images, backend: backend, clock: DaemonImageClock(), classifier: context.classifier)
        timer = try LoopTimer(loop: loop)
        coordinator.isLeased = { [unowned leases] names in leases.holds(any: names) }
        coordinator.onEvent = { [unowned context] event in
            context.events.publish(topic: event.topic, subject: event.subject, message: event.message, attributes: event.attributes)
            if event.topic.hasPrefix("image.job.") {
                context.metrics.increment(.imageJobs, label: String(event.topic.dropFirst("image.job.".count)))
                if event.topic != "image.job.started", let kind = event.attributes["kind"], let seconds = event.attributes["seconds"].flatMap(Double.init) {
                    context.metrics.observeImageJob(kind: kind, seconds: seconds)
                }
            }
            if event.topic == "image.job.failed" || event.topic == "image.prune_failed" {
                context.logger.warning("\(event.subject): \(event.message)")
            } else {
                context.logger.info("\(event.subject): \(event.message)")
            }
        }
    }

    /// Starts the tick, which also makes `keep_warm` images present now.
    func start() {
        if !backend.summary.isEmpty { context.logger.info("images: \(backend.summary)") }
        do {
            try backend.start()
        } catch let failure as ImageBackendFailure {
            context.logger.error("images: \(failure.message)")
        } catch {
            context.logger.error("images: \(error)")
        }
        coordinator.tick()
        timer.start(after: Self.tickMilliseconds, repeat: Self.tickMilliseconds) { [unowned self] in
            leases.sweep()
            coordinator.tick()
            pruneIfDue()
            scrubIfDue()
        }
        timer.unref()
    }

    /// `images.prune_every`: the daemon's own prune, one at a time.
    private func pruneIfDue() {
        let every = context.config.images.pruneEverySeconds
        let now = EventLoop.monotonicNanoseconds()
        guard every > 0, !pruning, Double(now - lastPruneNanoseconds) / 1e9 >= every else { return }
        pruning = true
        lastPruneNanoseconds = now
        coordinator.prune(dryRun: false) { [unowned self] report in
            pruning = false
            context.logger.info(
                "scheduled prune: removed \(report.removed.count) (\(report.bytesFreed) bytes), kept \(report.keptLeased.count) leased")
        }
    }

    /// `images.scrub_every`, counted from the last scrub's start (or the
    /// daemon's), on backends that can.
    private func scrubIfDue() {
        let every = context.config.images.scrubEverySeconds
        let now = EventLoop.monotonicNanoseconds()
        guard every > 0, backend.canScrub, Double(now - lastScrubNanoseconds) / 1e9 >= every else { return }
        scrub(by: "the schedule (images.scrub_every)") { _ in }
    }

    var presenceTracking: String { coordinator.presenceTracking }

    func jobCounts(_ kind: ImageJobKind) -> (running: Int, queued: Int) { coordinator.jobCounts(kind) }

    /// Runs a scrub (or joins the one running), logs and counts it.
    func scrub(by who: String, _ done: @escaping (Result<ScrubReport, SidecarError>) -> Void) {
        lastScrubNanoseconds = EventLoop.monotonicNanoseconds()
        context.logger.info("scrub started by \(who)")
        coordinator.scrub { [context, weak self] result in
            switch result {
            case .success(let report):
                self?.lastScrub = (Double(WallClock.unixMilliseconds()) / 1000, report)
                context.metrics.increment(.imageScrubs, label: report.damaged.isEmpty ? "clean" : "damaged")
                for finding in report.damaged {
                    context.logger.warning("scrub: \(finding.ref) was damaged (\(finding.damage)); repair: \(finding.repair)")
                }
            case .failure(let error):
                context.metrics.increment(.imageScrubs, label: "failed")
                context.logger.warning("scrub: \(error.message)")
            }
            done(result)
        }
    }

    func configure(_ config: DaemonConfig) {
        backend.configure(config.images)
        coordinator.configure(images: config.images, classifier: context.classifier)
    }

    func close() {
        timer.close()
        leases.close()
        backend.close()
    }

    // MARK: Methods

    /// Answers `done` once the image is present (at once when it is known
    /// to be); returns what leaves the job's waiters when the caller goes,
    /// or nil when `done` already ran.
    func ensure(
        image: String, leaseHolder holder: String, leaseTTLSeconds: UInt32, leaseHolderProcess: ProcessIdentity?, caller: Caller,
        _ done: @escaping (Result<EnsureImageAnswer, SidecarError>) -> Void
    ) throws -> (() -> Void)? {
        // No ttl: the default, or none at all for a lease that ends with its process.
        let ttl = leaseTTLSeconds == 0 && leaseHolderProcess == nil ? SidecarDefaults.leaseTTLSeconds : leaseTTLSeconds
        if !holder.isEmpty && ttl > LeaseTable.maxTTLSeconds {
            throw SidecarError(.invalidArgument, "lease_ttl_seconds is at most \(LeaseTable.maxTTLSeconds)")
        }
        if !holder.isEmpty, let process = leaseHolderProcess {
            do {
                try leases.checkHolder(process)
            } catch {
                throw StatusMapping.status(for: error)
            }
        }
        var answered = false
        let token = coordinator.ensure(image) { [context, leases] result in
            answered = true
            switch result {
            case .success(var answer):
                context.metrics.increment(.imageEnsures, label: answer.outcome == .present && !answer.coalesced ? "present" : "joined")
                if !holder.isEmpty {
                    do {
                        answer.lease = try leases.acquire(
                            target: answer.name, holder: holder, holderProcess: leaseHolderProcess, ttlSeconds: ttl, caller: caller)
                    } catch {
                        return done(.failure(StatusMapping.status(for: error)))
                    }
                }
                done(.success(answer))
            case .failure(let error):
                context.metrics.increment(.imageEnsures, label: "failed")
                done(.failure(error))
            }
        }
        guard let token, !answered else { return nil }
        return { [coordinator] in coordinator.leave(token) }
    }

    /// EnsureImage answered at once, without a call record, when the image
    /// is known present and no lease is asked; false when `ensure` must
    /// decide (and then nothing was written).
    func answerIfPresent(_ payload: UnsafeRawBufferPointer, into reply: ProtobufWriter) -> Bool {
        guard let request = EnsureImageRequestView(wireBytes: payload), !request.asksForLease,
            coordinator.writePresentAnswer(
                utf8: request.image, encode: { EnsureImageResponse.presentBytes(name: $0, ref: $1, id: $2) },
                write: { reply.append(encoded: $0) })
        else { return false }
        presentAnsweredAtOnce += 1
        return true
    }

    /// Counted here, an integer, and added to the metrics when they are
    /// read: two dictionary lookups per call were a sixth of its cost.
    private var presentAnsweredAtOnce: UInt64 = 0

    /// Brings the image counters up to date, before the metrics are rendered.
    func flushCounts() {
        guard presentAnsweredAtOnce > 0 else { return }
        context.metrics.increment(.imageEnsures, label: "present", by: presentAnsweredAtOnce)
        presentAnsweredAtOnce = 0
    }

    func list() throws -> [ImageStatus] {
        coordinator.list()
    }

    func prune(dryRun: Bool, caller: Caller, done: @escaping (PruneReport) -> Void) throws {
        context.logger.info("prune\(dryRun ? " (dry run)" : "") asked by \(caller)")
        coordinator.prune(dryRun: dryRun, done: done)
    }
}
