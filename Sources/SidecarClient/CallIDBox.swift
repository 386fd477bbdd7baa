import Synchronization

/// Bridges a call id from the continuation that starts a call to the
/// cancellation handler that may run before, during or after it.
final class CallIDBox: Sendable {
    private enum State {
        case waiting
        case started(UInt64)
        case cancelled
    }

    private let state = Mutex(State.waiting)
    private let pendingCancel = Mutex<(@Sendable (UInt64) -> Void)?>(nil)

    func set(_ id: UInt64) {
        let cancelNow = state.withLock { state -> Bool in
            if case .cancelled = state { return true }
            state = .started(id)
            return false
        }
        if cancelNow, let cancel = pendingCancel.withLock({ $0 }) { cancel(id) }
    }

    func cancel(_ cancel: @escaping @Sendable (UInt64) -> Void) {
        pendingCancel.withLock { $0 = cancel }
        let id = state.withLock { state -> UInt64? in
            if case .started(let id) = state { return id }
            state = .cancelled
            return nil
        }
        if let id { cancel(id) }
    }
}
