import Glibc
import Logging
import SidecarConfig
import SidecarCore
import SidecarLoop
import SidecarWire

/// Accepts connections on the socket, enforces the limits on connections
/// and calls, hands each call to the router, and drains on shutdown.
/// Everything here runs on the loop thread.
final class Server {
    enum State: String {
        case serving
        case draining
        case stopped
    }

    let loop: EventLoop
    let context: DaemonContext
    let metrics: MetricsRegistry
    private(set) var state = State.serving
    var router: Router
    /// Where a started call's answer is encoded before it is framed; reused.
    let replyScratch = ProtobufWriter(capacity: 1024)
    private var listener: UnixListener?
    private var connections: [UInt64: Connection] = [:]
    private var nextConnectionID: UInt64 = 1
    private var flushQueue: [Connection] = []
    private var turnHook: LoopTurnHook?
    /// Connections with frames left from an earlier turn (fairness).
    private var backlogged: [Connection] = []
    /// Keeps the loop from sleeping while `backlogged` has work.
    private var backlogIdle: LoopIdle?
    private var sweepTimer: LoopTimer?
    private var drainTimer: LoopTimer?
    private var onDrained: (() -> Void)?
    private(set) var inflightCalls = 0
    /// Bytes of partial frames over all connections (`limits.max_buffered_bytes`).
    private(set) var bufferedBytes = 0
    var lagProbe: LoopLagProbe?
    var busyMeter: LoopBusyMeter?
    /// Work done once per loop turn before replies are written (group commits).
    var turnEndWork: [() -> Void] = []

    /// Closing connections get this long to write their GOAWAY.
    static let closeGraceMilliseconds: UInt64 = 2000

    init(loop: EventLoop, context: DaemonContext) {
        self.loop = loop
        self.context = context
        metrics = context.metrics
        router = Router(metrics: context.metrics)
    }

    var limits: DaemonConfig.Limits { context.config.limits }
    var log: Logger { context.logger }
    var connectionCount: Int { connections.count }

    /// `inheritedDescriptor`: a listening socket from systemd socket
    /// activation, used instead of binding `socketPath`.
    func start(socketPath: String, mode: UInt32, inheritedDescriptor: Int32? = nil) throws {
        backlogIdle = try LoopIdle(loop: loop)
        turnHook = try LoopTurnHook(loop: loop) { [unowned self] in
            self.decodeBacklogs()
            for work in self.turnEndWork { work() }
            self.flushQueued()
        }
        let sweep = try LoopTimer(loop: loop)
        sweep.unref()
        sweep.start(after: 1000, repeat: 1000) { [unowned self] in self.sweep() }
        sweepTimer = sweep
        let listener = try UnixListener(
            loop: loop, path: socketPath,
            source: inheritedDescriptor.map { .inherited(descriptor: $0) } ?? .bind(mode: mode))
        listener.onConnection = { [unowned self] stream in self.accept(stream) }
        listener.onAcceptError = { [unowned self] error in self.log.warning("accept failed: \(error)") }
        self.listener = listener
    }

    // MARK: Connections

    private func accept(_ stream: LoopStream) {
        metrics.increment(.connections)
        guard state == .serving else {
            metrics.increment(.connectionsRejected, label: "draining")
            refuse(stream, SidecarError(.unavailable, "sidecard is shutting down"))
            return
        }
        guard connections.count < limits.maxConnections else {
            metrics.increment(.connectionsRejected, label: "max_connections")
            log.warning("refusing a connection: \(connections.count) open, limits.max_connections is \(limits.maxConnections)")
            refuse(stream, SidecarError(
                .resourceExhausted, "too many connections (limits.max_connections = \(limits.maxConnections))"))
            return
        }
        let peer = stream.peerCredentials() ?? PeerCredentials(uid: UInt32.max, gid: UInt32.max, pid: -1)
        let connection = Connection(id: nextConnectionID, stream: stream, peer: peer, server: self)
        nextConnectionID += 1
        do {
            try connection.start()
        } catch {
            log.warning("cannot read from a new connection: \(error)")
            stream.close()
            return
        }
        connections[connection.id] = connection
        log.trace("connection \(connection.id) from \(peer)")
    }

    /// How long a connection told GOAWAY is kept, reading and dropping, for
    /// its peer to hang up first.
    static let goAwayLingerMilliseconds: UInt64 = 250

    /// Tells a connection we will not serve why, then closes it.
    private func refuse(_ stream: LoopStream, _ error: SidecarError) {
        stream.write(ServerFrame.goAway(error).frameBytes())
        stream.closeAfterPeer(loop: loop, lingerMilliseconds: Self.goAwayLingerMilliseconds) {}
    }

    func connectionClosed(_ connection: Connection) {
        connections[connection.id] = nil
        checkDrained()
    }

    /// A connection's partial frame grew or shrank. Past the daemon-wide
    /// cap, the connection whose partial frame is oldest goes: a client that
    /// holds a frame open is what the cap guards against, and clients whose
    /// frames arrive whole keep their connections.
    func bufferedBytesChanged(by delta: Int, on connection: Connection) {
        bufferedBytes += delta
        guard delta > 0, bufferedBytes > limits.maxBufferedBytes else { return }
        let offender = connections.values
            .filter { $0.bufferedBytes > 0 && !$0.isClosing }
            // The loop's clock has millisecond steps: of frames begun in the
            // same one, the older connection's goes.
            .min { ($0.partialFrameSinceMilliseconds ?? .max, $0.id) < ($1.partialFrameSinceMilliseconds ?? .max, $1.id) }
        guard let offender else { return }
        metrics.increment(.connectionsRejected, label: "max_buffered_bytes")
        log.warning("closing connection \(offender.id) (\(offender.peer)): \(bufferedBytes) bytes of partial frames buffered, limits.max_buffered_bytes is \(limits.maxBufferedBytes)")
        offender.goAway(SidecarError(
            .resourceExhausted,
            "partial frames over all connections passed limits.max_buffered_bytes (\(limits.maxBufferedBytes)); yours was the oldest"))
        offender.dropPartialFrame()
    }

    /// `connection` has frames left past its share of this turn.
    func queueForNextTurn(_ connection: Connection) {
        guard !connection.isQueuedForTurn else { return }
        connection.isQueuedForTurn = true
        backlogged.append(connection)
        backlogIdle?.start()
    }

    /// Each backlogged connection decodes its next slice, in turn order.
    private func decodeBacklogs() {
        guard !backlogged.isEmpty else { return }
        let queued = backlogged
        backlogged.removeAll(keepingCapacity: true)
        for connection in queued {
            connection.isQueuedForTurn = false
            if connection.decodeBacklog() { queueForNextTurn(connection) }
        }
        if backlogged.isEmpty { backlogIdle?.stop() }
    }

    func queueFlush(_ connection: Connection) {
        guard !connection.isQueuedForFlush else { return }
        connection.isQueuedForFlush = true
        flushQueue.append(connection)
    }

    private func flushQueued() {
        guard !flushQueue.isEmpty else { return }
        let queued = flushQueue
        flushQueue.removeAll(keepingCapacity: true)
        for connection in queued { connection.flush() }
    }

    /// Once a second: close idle connections and those stuck closing.
    private func sweep() {
        let now = loop.nowMilliseconds
        let idleMilliseconds = UInt64(limits.idleTimeoutSeconds * 1000)
        let frameMilliseconds = UInt64(limits.frameTimeoutSeconds * 1000)
        for connection in Array(connections.values) {
            if connection.isClosing {
                if now - connection.closingSinceMilliseconds >= Self.closeGraceMilliseconds { connection.close() }
            } else if frameMilliseconds > 0, let since = connection.partialFrameSinceMilliseconds,
                now - since >= frameMilliseconds
            {
                metrics.increment(.connectionsRejected, label: "frame_timeout")
                connection.goAway(SidecarError(
                    .deadlineExceeded,
                    "a frame did not arrive whole within \(DurationText.format(limits.frameTimeoutSeconds)) of its first byte (limits.frame_timeout)"))
                connection.dropPartialFrame()
            } else if idleMilliseconds > 0, connection.calls.isEmpty,
                now - connection.lastActivityMilliseconds >= idleMilliseconds
            {
                metrics.increment(.connectionsRejected, label: "idle")
                connection.goAway(SidecarError(
                    .unavailable, "idle for \(DurationText.format(limits.idleTimeoutSeconds)) (limits.idle_timeout)"))
            }
        }
    }

    // MARK: Calls

    func startCall(_ frame: ClientFrameView, on connection: Connection) {
        let route = router.route(for: frame)
        let slot = route?.metricsSlot ?? router.unknownMethodSlot
        let id = frame.callID
        func reject(_ error: SidecarError) {
            connection.rejectCall(id: id, metricsSlot: slot, error: error)
        }
        guard id != 0 else { return reject(SidecarError(.invalidArgument, "call_id must not be 0")) }
        guard connection.calls.isEmpty || connection.calls[id] == nil else {
            return reject(SidecarError(.invalidArgument, "call id \(id) is already in flight"))
        }
        guard state == .serving else { return reject(SidecarError(.unavailable, "sidecard is shutting down")) }
        guard connection.calls.count < limits.maxInflightPerConnection else {
            return reject(SidecarError(
                .resourceExhausted,
                "too many calls in flight on this connection (limits.max_inflight_per_connection = \(limits.maxInflightPerConnection))"
            ))
        }
        guard let route else {
            return reject(SidecarError(
                .unimplemented, "unknown method \"\(frame.method)\" (methods: \(router.methodNames.joined(separator: ", ")))"))
        }
        if route.spec.requiresAdmin && !connection.caller.isAdmin {
            return reject(SidecarError(
                .permissionDenied,
                "\(route.spec.name) is an admin method; uid \(connection.peer.uid) (gid \(connection.peer.gid)) is in neither admin_uids nor admin_gids"
            ))
        }
        if route.answersAtOnce {
            // Counted in flight while it runs, so Health sees itself.
            inflightCalls += 1
            router.answerAtOnce(route: route, frame: frame, on: connection)
            inflightCalls -= 1
            return
        }
        if let answerNowIfCan = route.answerNowIfCan {
            inflightCalls += 1
            let answered = router.answerNowIfCan(answerNowIfCan, route: route, frame: frame, on: connection)
            inflightCalls -= 1
            if answered { return }
        }
        if let startHandler = route.start {
            let call = ActiveCall(
                id: id, method: route.spec.name, metricsSlot: slot, caller: connection.caller, isStream: route.spec.isStreaming,
                connection: connection)
            connection.register(call)
            inflightCalls += 1
            if frame.timeoutMilliseconds > 0 {
                armDeadline(call, milliseconds: frame.timeoutMilliseconds)
            }
            startHandler(call, frame.payload)
            router.deferredCallStarted()
        }
    }

    private func armDeadline(_ call: ActiveCall, milliseconds: UInt32) {
        guard let timer = try? LoopTimer(loop: loop) else { return }
        call.deadlineTimer = timer
        timer.start(after: UInt64(milliseconds)) { [weak call] in
            call?.cancel(SidecarError(.deadlineExceeded, "deadline of \(milliseconds) ms exceeded"))
        }
    }

    func callEnded(metricsSlot: Int, code: StatusCode, seconds: Double) {
        inflightCalls -= 1
        metrics.recordCall(slot: metricsSlot, code: code, seconds: seconds)
        checkDrained()
    }

    /// Admin: the peer's uid is in `admin_uids`, or its primary or one of
    /// its supplementary groups in `admin_gids`.
    func isAdmin(_ connection: Connection) -> Bool {
        let config = context.config
        let peer = connection.peer
        if config.adminUIDs.contains(peer.uid) || config.adminGIDs.contains(peer.gid) { return true }
        return !config.adminGIDs.isEmpty && connection.peerGroups.contains { config.adminGIDs.contains($0) }
    }

    // MARK: Shutdown

    /// Stops accepting, refuses new calls, lets calls in flight finish (or
    /// cuts them at the drain timeout), then closes every connection.
    func drain(then done: @escaping () -> Void) {
        guard state == .serving else { return }
        state = .draining
        onDrained = done
        listener?.close()
        listener = nil
        log.info("draining: \(inflightCalls) calls in flight on \(connections.count) connections")
        // Armed before anything can end the drain, so `checkDrained` always
        // finds it to close.
        let timeout = UInt64(limits.drainTimeoutSeconds * 1000)
        if let timer = try? LoopTimer(loop: loop) {
            drainTimer = timer
            timer.start(after: timeout) { [unowned self] in
                self.log.warning("drain timeout: cutting \(self.inflightCalls) calls still in flight")
                for connection in Array(self.connections.values) {
                    for call in Array(connection.calls.values) {
                        call.cancel(SidecarError(.unavailable, "sidecard is shutting down (drain timeout)"))
                    }
                }
            }
        }
        context.events.endAllWatchers(SidecarError(.unavailable, "sidecard is shutting down"))
        checkDrained()
    }

    private func checkDrained() {
        guard state == .draining, inflightCalls == 0 else { return }
        state = .stopped
        for connection in Array(connections.values) {
            connection.goAway(SidecarError(.unavailable, "sidecard is shutting down"))
        }
        flushQueued()
        let finish = onDrained
        onDrained = nil
        // Connections close as their GOAWAY is written; the timers go now.
        drainTimer?.close()
        drainTimer = nil
        closeWhenConnectionsGone(finish)
    }

    private func closeWhenConnectionsGone(_ finish: (() -> Void)?) {
        if connections.isEmpty {
            sweepTimer?.close()
            sweepTimer = nil
            turnHook?.close()
            backlogIdle?.close()
            turnHook = nil
            finish?()
            return
        }
        // Give GOAWAYs the grace period; the sweep timer closes stragglers.
        guard let timer = try? LoopTimer(loop: loop) else {
            for connection in Array(connections.values) { connection.close() }
            closeWhenConnectionsGone(finish)
            return
        }
        timer.start(after: 20) { [unowned self] in
            timer.close()
            self.closeWhenConnectionsGone(finish)
        }
    }
}
