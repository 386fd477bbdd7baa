import SidecarCore
import SidecarWire

/// Watch: a server stream of events that lasts until the client cancels,
/// its deadline passes, or the daemon shuts down.
enum WatchHandler {
    static func spec(context: DaemonContext) -> MethodSpec {
        .deferred("Watch") { (call, request: WatchRequest) in
            let events = context.events
            let token = events.subscribe(
                prefixes: request.topics,
                deliver: { event in call.stream(event) },
                end: { error in call.fail(error) })
            call.onCancel = { events.unsubscribe(token) }
        }
    }
}
