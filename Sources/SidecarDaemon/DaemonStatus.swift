import Glibc
import SidecarCore
import SidecarImages
import SidecarLoop
import SidecarWire

/// What the daemon says about itself: Health, Metrics, and the Debug
/// service's slow call for tests.
final class DaemonStatus {
    let context: DaemonContext
    // Strong: an unowned reference costs an atomic pair on every use, and
    // Health reads the server on every call. Server and routes live as
    // long as the daemon.
    private let server: Server
    private let images: ImageService
    private let retries: RetryService
    private let fleet: FleetService?
    private let pid = UInt32(getpid())

    init(server: Server, images: ImageService, retries: RetryService, fleet: FleetService?) {
        self.fleet = fleet
        self.server = server
        self.images = images
        self.retries = retries
        context = server.context
    }

    /// The bytes a list method's page may fill: a message, less room for
    /// the frame around it.
    var pageBudget: Int { context.config.limits.maxMessageBytes - 4096 }

    /// Health, written straight into the reply: the settled fields come
    /// from this turn's `HealthAnswer`, the moving ones are read per call.
    @inline(__always)
    func answerHealth(_ payload: UnsafeRawBufferPointer, into reply: ProtobufWriter) -> SidecarError? {
        do {
            _ = try HealthRequest(wireBytes: payload)
        } catch {
            return StatusMapping.status(for: error)
        }
        if !healthIsSettled {
            settledHealth.settle(from: settledPart())
            healthIsSettled = true
        }
        settledHealth.write(
            uptimeSeconds: context.uptimeSeconds(loopMilliseconds: server.loop.nowMilliseconds),
            connections: UInt32(server.connectionCount), inflightCalls: UInt32(server.inflightCalls),
            loopLagMilliseconds: server.lagProbe?.lastMilliseconds ?? 0,
            loopLagMaxMilliseconds: server.lagProbe?.maxMilliseconds ?? 0, into: reply)
        return nil
    }

    /// The settled part of Health, encoded at most once a turn. What it
    /// holds (draining, the presence tracking, the fleet link and its
    /// claims) changes only in callbacks of its own, so a call answered in
    /// the same turn as a change reads as one answered just before it.
    private let settledHealth = HealthAnswer()
    private var healthIsSettled = false

    /// Health's settled fields; the moving ones are left at zero, as
    /// `answerHealth` writes them per call.
    private func settledPart() -> HealthResponse {
        HealthResponse(
            version: SidecarDefaults.version, uptimeSeconds: 0, connections: 0, inflightCalls: 0,
            loopLagMilliseconds: 0, loopLagMaxMilliseconds: 0,
            pid: pid, state: server.state == .serving ? "serving" : "draining", imagePresence: images.presenceTracking,
            fleet: fleet?.health)
    }

    /// The Prometheus text of every metric.
    /// Rendered at most once a loop turn: a burst of Metrics calls (or
    /// scrapes) shares one rendering, which walks every series and every
    /// retry key, instead of paying for it per call.
    func metricsText() -> String {
        if let renderedThisTurn { return renderedThisTurn }
        let text = renderMetrics()
        renderedThisTurn = text
        return text
    }

    private var renderedThisTurn: String?

    /// At the end of each turn: what a later turn asks is rendered afresh.
    func turnEnded() {
        renderedThisTurn = nil
        healthIsSettled = false
    }

    private func renderMetrics() -> String {
        images.flushCounts()
        retries.flushCounts()
        return context.metrics.render(MetricsRegistry.Gauges(
            connections: server.connectionCount, inflightCalls: server.inflightCalls,
            watchers: context.events.subscriberCount,
            loopLagSeconds: (server.lagProbe?.lastMilliseconds ?? 0) / 1000,
            loopLagMaxSeconds: (server.lagProbe?.maxMilliseconds ?? 0) / 1000,
            loopBusyMaxSeconds: server.busyMeter?.maxSeconds ?? 0,
            uptimeSeconds: context.uptimeSeconds(loopMilliseconds: server.loop.nowMilliseconds),
            version: SidecarDefaults.version, lastScrub: images.lastScrub,
            imageJobsRunning: Dictionary(uniqueKeysWithValues: ImageJobKind.allCases.map { ($0.rawValue, images.jobCounts($0).running) }),
            imageJobsQueued: Dictionary(uniqueKeysWithValues: ImageJobKind.allCases.map { ($0.rawValue, images.jobCounts($0).queued) }),
            leasesHeld: images.leases.live().count, retryKeys: retries.keyCountsByState(),
            fleetConnected: fleet.map { $0.link.isUsable ? 1 : 0 }))
    }

    /// Debug.Sleep: answers after a while without blocking the loop, so tests
    /// of deadlines, cancellation, ordering and draining have a slow call.
    func debugSleep(milliseconds: UInt32, _ reply: CallReply<SleepResponse>) throws {
        guard context.config.debugMethods else {
            throw SidecarError(.unimplemented, "Debug methods are off (set debug_methods = true)")
        }
        let timer = try LoopTimer(loop: server.loop)
        let started = EventLoop.monotonicNanoseconds()
        reply.onCancel { timer.close() }
        timer.start(after: UInt64(milliseconds)) {
            timer.close()
            reply.respond(SleepResponse(sleptSeconds: Double(EventLoop.monotonicNanoseconds() - started) / 1e9))
        }
    }
}
