import SidecarCore
import SidecarLoop
import SidecarWire

/// One client connection: decodes its frames, starts its calls, queues its
/// answers. Replies are gathered in `outgoing` and written once per loop
/// turn by the server, so a burst of pipelined calls costs one write.
final class Connection {
    let id: UInt64
    let peer: PeerCredentials
    /// The peer's supplementary groups, read once, when a call first needs them.
    private(set) lazy var peerGroups: [UInt32] = stream.peerGroups()
    private var cachedCaller: (generation: Int, caller: Caller)?
    private let stream: LoopStream
    /// Strong: the server drops a connection from its table when it closes,
    /// which ends the cycle, and the daemon keeps the server to the end. An
    /// `unowned` reference would cost a retain and a release on every use,
    /// several per call.
    private let server: Server
    private var decoder: FrameDecoder
    private var greeted = false
    private(set) var calls: [UInt64: ActiveCall] = [:]
    /// Grows with a burst of answers and shrinks back when flushed.
    private let outgoing = ProtobufWriter(capacity: 1024)
    private(set) var lastActivityMilliseconds: UInt64
    /// When the first byte of a frame still not whole arrived; nil between
    /// frames. A frame has `limits.frame_timeout` to arrive whole.
    private(set) var partialFrameSinceMilliseconds: UInt64?
    /// What the decoder holds of that frame, as the server counts it.
    private(set) var bufferedBytes = 0
    /// Set once a GOAWAY is queued: nothing else is read or sent.
    private(set) var isClosing = false
    private(set) var closingSinceMilliseconds: UInt64 = 0
    private var readingPaused = false
    var isQueuedForFlush = false
    var isQueuedForTurn = false
    /// Bytes read but not yet decoded: past `framesPerTurn` frames, the rest
    /// of a read waits for a later loop turn, and the socket is not read
    /// meanwhile, so one client's burst cannot hold the loop from others.
    private var backlog: [UInt8] = []
    private var backlogStart = 0
    private var hasBacklog: Bool { backlogStart < backlog.count }
    /// Frames decoded per connection per loop turn.
    static let framesPerTurn = 64

    /// Stop reading while this much is queued for a peer that does not read.
    static let writeHighWaterBytes = 8 * 1024 * 1024
    /// A watcher this far behind is cut off rather than buffered without end.
    static let streamBacklogLimitBytes = 16 * 1024 * 1024

    init(id: UInt64, stream: LoopStream, peer: PeerCredentials, server: Server) {
        self.id = id
        self.stream = stream
        self.peer = peer
        self.server = server
        decoder = FrameDecoder(maxBodyBytes: server.limits.maxMessageBytes)
        lastActivityMilliseconds = server.loop.nowMilliseconds
    }

    /// The handlers hold the connection strongly; `close()` breaks the cycle.
    func start() throws {
        stream.onRead = { bytes in self.received(bytes) }
        stream.onEnd = { error in self.peerGone(error) }
        stream.onWritesDrained = { self.writesDrained() }
        try stream.startReading()
    }

    /// Who calls on this connection, by the running config's admin lists.
    var caller: Caller {
        let generation = server.context.configGeneration
        if let cachedCaller, cachedCaller.generation == generation { return cachedCaller.caller }
        let caller = Caller(uid: peer.uid, groups: [peer.gid] + peerGroups, isAdmin: server.isAdmin(self))
        cachedCaller = (generation, caller)
        return caller
    }

    // MARK: Reading

    private func received(_ bytes: UnsafeRawBufferPointer) {
        // Told GOAWAY: what it sends now is dropped, not gathered.
        guard !isClosing else { return }
        lastActivityMilliseconds = server.loop.nowMilliseconds
        server.router.readStarted()
        defer { trackPartialFrame() }
        let used = decodeFrames(bytes)
        // What this read answered at once goes out now, not at the end of
        // the turn: the client reads these answers while the loop decodes
        // the other connections' calls, as an echo server's would be. (What
        // waits for a commit is answered in a later turn anyway; a closing
        // connection's last bytes are left to the turn's flush.)
        if outgoing.count > 0 && !isClosing { flush() }
        guard used < bytes.count, !isClosing else { return }
        backlog.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[used...]))
        backlogStart = 0
        stream.stopReading()
        server.queueForNextTurn(self)
    }

    /// Decodes the next slice of the backlog (the server calls this once a
    /// turn); true while some is left for a later turn.
    func decodeBacklog() -> Bool {
        guard !isClosing else {
            backlog = []
            backlogStart = 0
            return false
        }
        // Waiting for its peer to read its answers: `writesDrained` queues it again.
        guard !readingPaused else { return false }
        server.router.readStarted()
        defer { trackPartialFrame() }
        let used = backlog.withUnsafeBytes { decodeFrames(UnsafeRawBufferPointer(rebasing: $0[backlogStart...])) }
        backlogStart += used
        if hasBacklog && !isClosing { return true }
        backlog.removeAll(keepingCapacity: backlog.capacity <= 64 * 1024)
        backlogStart = 0
        if !isClosing && !readingPaused { try? stream.startReading() }
        return false
    }

    /// Hands up to `framesPerTurn` frames to their handlers; returns the
    /// bytes taken.
    private func decodeFrames(_ bytes: UnsafeRawBufferPointer) -> Int {
        decoder.feed(bytes, upTo: Self.framesPerTurn) { event in
            guard !isClosing else { return }
            switch event {
            case .frame(let body):
                handleFrame(body)
            case .oversized(let length, let callID):
                rejectOversized(length: length, callID: callID)
            }
        }
    }

    private func handleFrame(_ body: UnsafeRawBufferPointer) {
        let frame: ClientFrameView
        do {
            frame = try ClientFrameView(frameBody: body)
        } catch {
            server.metrics.increment(.protocolErrors, label: "malformed")
            goAway(SidecarError(.invalidArgument, "malformed frame of \(body.count) bytes: not a sidecar.v1.ClientFrame"))
            return
        }
        guard greeted else {
            greet(frame)
            return
        }
        switch frame.kind {
        case .call:
            server.startCall(frame, on: self)
        case .cancel:
            calls[frame.callID]?.cancel(SidecarError(.cancelled, "cancelled by the client"))
        case .hello:
            server.metrics.increment(.protocolErrors, label: "hello_twice")
            goAway(SidecarError(.invalidArgument, "HELLO may be sent only once per connection"))
        case .unspecified:
            server.metrics.increment(.protocolErrors, label: "unknown_kind")
            goAway(SidecarError(.invalidArgument, "frame kind is unspecified"))
        }
    }

    private func greet(_ frame: ClientFrameView) {
        guard frame.kind == .hello else {
            server.metrics.increment(.protocolErrors, label: "no_hello")
            goAway(SidecarError(
                .failedPrecondition, "the first frame must be a HELLO (see proto/sidecar/v1/README.md)"))
            return
        }
        guard frame.protocolVersion == SidecarDefaults.protocolVersion else {
            server.metrics.increment(.protocolErrors, label: "version")
            goAway(SidecarError(
                .failedPrecondition,
                "client speaks protocol revision \(frame.protocolVersion); this sidecard speaks \(SidecarDefaults.protocolVersion)"
            ))
            return
        }
        greeted = true
        enqueue(ServerFrame(
            kind: .helloAck, protocolVersion: SidecarDefaults.protocolVersion, serverVersion: SidecarDefaults.version,
            maxMessageBytes: UInt32(server.limits.maxMessageBytes),
            maxInflightCalls: UInt32(server.limits.maxInflightPerConnection)))
    }

    private func rejectOversized(length: Int, callID: UInt64?) {
        server.metrics.increment(.protocolErrors, label: "oversized")
        let error = SidecarError(
            .resourceExhausted,
            "message of \(length) bytes exceeds the limit of \(server.limits.maxMessageBytes) bytes (limits.max_message_bytes)")
        if let callID, callID != 0, greeted, calls[callID] == nil {
            rejectCall(id: callID, metricsSlot: server.router.unknownMethodSlot, error: error)
        } else {
            goAway(error)
        }
    }

    // MARK: Calls

    func register(_ call: ActiveCall) {
        calls[call.id] = call
    }

    /// Called by `ActiveCall` when it ends: the answer goes out, the slot frees.
    func callFinished(_ call: ActiveCall, frame: ServerFrame, code: StatusCode) {
        guard calls.removeValue(forKey: call.id) != nil else { return }
        // The answer is queued before the server hears the call ended: the
        // last call of a drain makes the server send GOAWAY, which must
        // follow the answer, not replace it.
        if !isClosing {
            enqueueWithinLimit(frame)
        }
        callEnded(call, code: code)
    }

    /// A started call's answer, encoded through the server's scratch writer
    /// into the output: no payload array and no frame value per answer.
    func callAnswered(_ call: ActiveCall, with message: some WireMessage) {
        guard calls.removeValue(forKey: call.id) != nil else { return }
        var code = StatusCode.ok
        if !isClosing {
            let scratch = server.replyScratch
            scratch.reset()
            message.encode(into: scratch)
            code = answer(id: call.id, reply: scratch)
        }
        callEnded(call, code: code)
    }

    private func callEnded(_ call: ActiveCall, code: StatusCode) {
        let seconds = Double(EventLoop.monotonicNanoseconds() - call.startNanoseconds) / 1e9
        server.callEnded(metricsSlot: call.metricsSlot, code: code, seconds: seconds)
        closeIfAnswered()
    }

    /// Sends the answer of a call that finished as it started; returns the
    /// status it ended with (not OK when the answer is over the limit).
    func answer(id: UInt64, reply: ProtobufWriter) -> StatusCode {
        guard reply.count <= server.limits.maxMessageBytes else {
            return enqueueWithinLimit(.reply(id: id, payload: reply.bytes))
        }
        reply.withBytes { ServerFrame.writeReply(callID: id, payload: $0, to: outgoing) }
        server.queueFlush(self)
        return .ok
    }

    /// Sends the failure of a call that failed as it started.
    func fail(id: UInt64, _ failure: SidecarError) {
        enqueue(.reply(id: id, error: failure))
    }

    /// Queues `frame`, or RESOURCE_EXHAUSTED in its place when its payload
    /// is over the message limit; returns the status that went out.
    @discardableResult
    private func enqueueWithinLimit(_ frame: ServerFrame) -> StatusCode {
        guard frame.payload.count <= server.limits.maxMessageBytes else {
            let error = SidecarError(
                .resourceExhausted,
                "the answer of \(frame.payload.count) bytes exceeds limits.max_message_bytes (\(server.limits.maxMessageBytes))")
            enqueue(.reply(id: frame.callID, error: error))
            return error.code
        }
        enqueue(frame)
        return frame.statusCode
    }

    func sendStreamMessage(_ frame: ServerFrame) -> Bool {
        guard !isClosing else { return false }
        if outgoing.count + stream.pendingWriteBytes > Self.streamBacklogLimitBytes {
            calls[frame.callID]?.cancel(SidecarError(
                .resourceExhausted, "the stream fell more than \(Self.streamBacklogLimitBytes) bytes behind; reconnect"))
            return false
        }
        enqueue(frame)
        return true
    }

    /// Answers a call that never started (bad id, unknown method, limits).
    func rejectCall(id: UInt64, metricsSlot: Int, error: SidecarError) {
        server.metrics.recordCall(slot: metricsSlot, code: error.code, seconds: 0)
        enqueue(.reply(id: id, error: error))
    }

    // MARK: Writing

    func enqueue(_ frame: ServerFrame) {
        frame.write(to: outgoing)
        server.queueFlush(self)
    }

    /// Writes what the turn gathered; called by the server once per loop turn.
    func flush() {
        isQueuedForFlush = false
        if outgoing.count > 0 {
            outgoing.withBytes { stream.write($0) }
            outgoing.reset(keepingCapacityUpTo: 256 * 1024)
        }
        if isClosing {
            if stream.pendingWriteBytes == 0 { closeAfterPeer() }
        } else if !readingPaused, stream.pendingWriteBytes > Self.writeHighWaterBytes {
            readingPaused = true
            stream.stopReading()
        }
    }

    private func writesDrained() {
        if isClosing {
            closeAfterPeer()
        } else if readingPaused {
            readingPaused = false
            if hasBacklog {
                server.queueForNextTurn(self)
            } else {
                try? stream.startReading()
            }
        }
    }

    // MARK: Ending

    /// Sends GOAWAY with the reason and closes once it is written. Calls in
    /// flight are abandoned: their answers could not be sent anyway.
    func goAway(_ error: SidecarError) {
        guard !isClosing else { return }
        server.log.debug("closing connection \(id) (\(peer)): \(error)")
        enqueue(.goAway(error))
        isClosing = true
        closingSinceMilliseconds = server.loop.nowMilliseconds
        abandonCalls()
    }

    private var isLingering = false

    /// Forgets the frame being gathered (the connection is going away).
    func dropPartialFrame() {
        decoder = FrameDecoder(maxBodyBytes: decoder.maxBodyBytes)
        trackPartialFrame()
    }

    private func trackPartialFrame() {
        if decoder.hasPartialFrame {
            if partialFrameSinceMilliseconds == nil { partialFrameSinceMilliseconds = lastActivityMilliseconds }
        } else {
            partialFrameSinceMilliseconds = nil
        }
        let buffered = decoder.bufferedBytes
        if buffered != bufferedBytes {
            server.bufferedBytesChanged(by: buffered - bufferedBytes, on: self)
            bufferedBytes = buffered
        }
    }

    /// The GOAWAY is written: close once the peer hangs up (what it sends
    /// meanwhile is dropped), or after a short linger.
    private func closeAfterPeer() {
        guard !isLingering else { return }
        isLingering = true
        // The peer already said it sends no more: there is nothing to drain.
        if peerStoppedSending { return close() }
        stream.closeAfterPeer(loop: server.loop, lingerMilliseconds: Server.goAwayLingerMilliseconds) { [self] in close() }
    }

    private func peerGone(_ error: LoopError?) {
        if let error {
            server.log.debug("connection \(id) (\(peer)) failed: \(error)")
            return close()
        }
        // The peer sends no more (it half-closed, or hung up): it may still
        // read, so what it asked is answered before the connection closes.
        // Its streams end here: nothing could ever cancel them.
        peerStoppedSending = true
        for call in Array(calls.values) where call.isStream {
            call.cancel(SidecarError(.cancelled, "the client stopped sending"))
        }
        closeIfAnswered()
    }

    /// True once the peer's end has closed for writing.
    private var peerStoppedSending = false

    private func closeIfAnswered() {
        guard peerStoppedSending, calls.isEmpty, !isClosing else { return }
        if outgoing.count == 0 && stream.pendingWriteBytes == 0 { return close() }
        isClosing = true
        closingSinceMilliseconds = server.loop.nowMilliseconds
        server.queueFlush(self)
    }

    private func abandonCalls() {
        let pending = Array(calls.values)
        calls.removeAll()
        for call in pending {
            call.abandon()
            let seconds = Double(EventLoop.monotonicNanoseconds() - call.startNanoseconds) / 1e9
            server.callEnded(metricsSlot: call.metricsSlot, code: .cancelled, seconds: seconds)
        }
    }

    private var isClosed = false

    /// Closes now, dropping anything not yet written.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        isClosing = true
        if bufferedBytes > 0 {
            server.bufferedBytesChanged(by: -bufferedBytes, on: self)
            bufferedBytes = 0
        }
        abandonCalls()
        outgoing.reset(keepingCapacityUpTo: 0)
        stream.close()
        server.connectionClosed(self)
    }
}
