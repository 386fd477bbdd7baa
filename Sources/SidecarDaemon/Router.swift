import Glibc
import SidecarCore
import SidecarLoop
import SidecarWire

/// Finds a call's method in the routing table and runs it: the table, the
/// last-route cache, the buffer replies answered at once are written into,
/// and their timing. Loop thread only. A struct kept inline in the server:
/// as a class of its own, reaching it cost a retain and a release per call.
struct Router {
    final class Route {
        let spec: MethodSpec
        let metricsSlot: Int
        let nameBytes: [UInt8]
        /// `spec.handler` unpacked once: taking a closure out of the enum
        /// on every call cost two retains and two releases.
        let answerNow: ((Caller, UnsafeRawBufferPointer, ProtobufWriter) -> SidecarError?)?
        let answerInPlace: ((UnsafeRawBufferPointer, ProtobufWriter) -> SidecarError?)?
        let answerNowIfCan: ((UnsafeRawBufferPointer, ProtobufWriter) -> Bool)?
        let start: ((ActiveCall, UnsafeRawBufferPointer) -> Void)?
        var answersAtOnce: Bool { answerInPlace != nil || answerNow != nil }

        init(spec: MethodSpec, metricsSlot: Int) {
            self.spec = spec
            self.metricsSlot = metricsSlot
            nameBytes = Array(spec.name.utf8)
            switch spec.handler {
            case .answerNow(let handler):
                (answerNow, answerInPlace, answerNowIfCan, start) = (handler, nil, nil, nil)
            case .answerInPlace(let handler):
                (answerNow, answerInPlace, answerNowIfCan, start) = (nil, handler, nil, nil)
            case .start(let handler):
                (answerNow, answerInPlace, answerNowIfCan, start) = (nil, nil, nil, handler)
            case .answerNowOrStart(let now, let later):
                (answerNow, answerInPlace, answerNowIfCan, start) = (nil, nil, now, later)
            }
        }

        func isNamed(_ bytes: UnsafeRawBufferPointer) -> Bool {
            guard bytes.count == nameBytes.count, let given = bytes.baseAddress else { return false }
            return nameBytes.withUnsafeBytes { memcmp($0.baseAddress!, given, bytes.count) == 0 }
        }
    }

    private let metrics: MetricsRegistry
    private var routes: [String: Route] = [:]
    /// The last method called: runners call one method over and over, and
    /// comparing its bytes is cheaper than making a String and hashing it.
    private var lastRoute: Route?
    /// Where the methods answered at once write their reply; reused.
    private let replyWriter = ProtobufWriter(capacity: 4096)
    /// When the previous call answered at once ended, or the current read
    /// began: the start of the next such call, so one costs one clock read.
    private var callClockNanoseconds: UInt64 = 0
    /// Metrics row for calls to names that are not methods.
    let unknownMethodSlot: Int

    init(metrics: MetricsRegistry) {
        self.metrics = metrics
        unknownMethodSlot = metrics.slot(for: "unknown")
    }

    mutating func install(_ table: [MethodSpec]) {
        for spec in table where routes[spec.name] == nil {
            routes[spec.name] = Route(spec: spec, metricsSlot: metrics.slot(for: spec.name))
        }
    }

    var methodNames: [String] { routes.keys.sorted() }

    @inline(__always)
    mutating func route(for frame: ClientFrameView) -> Route? {
        if let last = lastRoute, last.isNamed(frame.methodBytes) { return last }
        let route = routes[frame.method]
        if let route { lastRoute = route }
        return route
    }

    /// A connection is about to handle what it read: the first call answered
    /// at once in it is timed from here (its decoding included).
    mutating func readStarted() {
        callClockNanoseconds = EventLoop.monotonicNanoseconds()
    }

    /// Runs a method answered at once (`answerInPlace` or `answerNow`) and
    /// writes its answer to `connection`.
    @inline(__always)
    mutating func answerAtOnce(route: Route, frame: ClientFrameView, on connection: Connection) {
        // A large answer (Metrics, a long list) may grow it; that memory
        // is not kept past a few hundred KiB.
        replyWriter.reset(keepingCapacityUpTo: 256 * 1024)
        let failure: SidecarError?
        if let answerInPlace = route.answerInPlace {
            failure = answerInPlace(frame.payload, replyWriter)
        } else if let answerNow = route.answerNow {
            failure = answerNow(connection.caller, frame.payload, replyWriter)
        } else {
            return
        }
        // Bound here, not passed on: the answer's path never holds an
        // Optional error, whose destruction went through a generic witness
        // per call.
        if let failure {
            sendFailure(failure, route: route, frame: frame, on: connection)
        } else {
            sendAnswer(route: route, frame: frame, on: connection)
        }
    }

    /// Runs the at-once half of a method that may answer later; false, with
    /// nothing sent, when it cannot answer now.
    @inline(__always)
    mutating func answerNowIfCan(
        _ handler: (UnsafeRawBufferPointer, ProtobufWriter) -> Bool, route: Route, frame: ClientFrameView,
        on connection: Connection
    ) -> Bool {
        replyWriter.reset(keepingCapacityUpTo: 256 * 1024)
        guard handler(frame.payload, replyWriter) else { return false }
        sendAnswer(route: route, frame: frame, on: connection)
        return true
    }

    /// Sends what `replyWriter` holds and times the call.
    @inline(__always)
    private mutating func sendAnswer(route: Route, frame: ClientFrameView, on connection: Connection) {
        callEnded(route: route, code: connection.answer(id: frame.callID, reply: replyWriter))
    }

    private mutating func sendFailure(_ failure: SidecarError, route: Route, frame: ClientFrameView, on connection: Connection) {
        connection.fail(id: frame.callID, failure)
        callEnded(route: route, code: failure.code)
    }

    @inline(__always)
    private mutating func callEnded(route: Route, code: StatusCode) {
        let ended = EventLoop.monotonicNanoseconds()
        metrics.recordCall(slot: route.metricsSlot, code: code, seconds: Double(ended &- callClockNanoseconds) / 1e9)
        callClockNanoseconds = ended
    }

    /// A deferred call has started; the next call answered at once is timed
    /// from here.
    mutating func deferredCallStarted() {
        callClockNanoseconds = EventLoop.monotonicNanoseconds()
    }
}
