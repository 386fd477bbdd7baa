import SidecarCore
import SidecarLoop
import SidecarWire

/// Delivers daemon events to Watch streams, filtered by topic prefix. Lives
/// on the loop thread; publishing never waits for a slow watcher (its
/// connection cuts it off when it falls too far behind).
final class EventBus {
    private struct Subscription {
        let prefixes: [String]
        let deliver: (SidecarEvent) -> Void
        let end: (SidecarError) -> Void
    }

    private var subscriptions: [UInt64: Subscription] = [:]
    private var nextToken: UInt64 = 1

    var subscriberCount: Int { subscriptions.count }

    /// Empty `prefixes` receives every topic. `end` is called if the bus
    /// ends the subscription (shutdown).
    func subscribe(
        prefixes: [String], deliver: @escaping (SidecarEvent) -> Void, end: @escaping (SidecarError) -> Void
    ) -> UInt64 {
        let token = nextToken
        nextToken += 1
        subscriptions[token] = Subscription(prefixes: prefixes, deliver: deliver, end: end)
        return token
    }

    /// Watch: streams the events of `topics` to a call until it ends;
    /// returns what ends the subscription when the call is cancelled.
    func watch(topics: [String], _ reply: CallReply<SidecarEvent>) -> () -> Void {
        let token = subscribe(prefixes: topics, deliver: { reply.stream($0) }, end: { reply.fail($0) })
        return { [unowned self] in unsubscribe(token) }
    }

    func unsubscribe(_ token: UInt64) {
        subscriptions[token] = nil
    }

    func publish(_ event: SidecarEvent) {
        for subscription in Array(subscriptions.values)
        where subscription.prefixes.isEmpty || subscription.prefixes.contains(where: { event.topic.hasPrefix($0) }) {
            subscription.deliver(event)
        }
    }

    /// Nothing of the event is made (its attributes included) while nobody
    /// watches: a retry decision published one per call, with no watcher,
    /// cost an eighth of a ReserveRetrySlot.
    func publish(
        topic: String, subject: String, message: @autoclosure () -> String, attributes: @autoclosure () -> [String: String] = [:]
    ) {
        guard !subscriptions.isEmpty else { return }
        publish(SidecarEvent(
            topic: topic, timeUnixMilliseconds: WallClock.unixMilliseconds(), subject: subject, message: message(),
            attributes: attributes()))
    }

    func endAllWatchers(_ error: SidecarError) {
        let ending = subscriptions
        subscriptions.removeAll()
        for subscription in ending.values { subscription.end(error) }
    }
}
