import SidecarCore
import SidecarLoop
import SidecarWire

/// Debug.Sleep: answers after a while without blocking the loop, so tests of
/// deadlines, cancellation, ordering and draining have a slow call to use.
enum DebugSleepHandler {
    static func spec(server: Server) -> MethodSpec {
        .deferred("Debug.Sleep") { (call, request: SleepRequest) in
            guard server.context.config.debugMethods else {
                throw SidecarError(.unimplemented, "Debug methods are off (set debug_methods = true)")
            }
            let timer = try LoopTimer(loop: server.loop)
            let started = EventLoop.monotonicNanoseconds()
            call.onCancel = { timer.close() }
            timer.start(after: UInt64(request.milliseconds)) {
                timer.close()
                call.respond(SleepResponse(sleptSeconds: Double(EventLoop.monotonicNanoseconds() - started) / 1e9))
            }
        }
    }
}
