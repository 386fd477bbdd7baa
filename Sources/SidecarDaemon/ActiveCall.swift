import SidecarCore
import SidecarLoop
import SidecarWire

/// One call in flight. Its handler answers through it exactly once
/// (`respond` or `fail`); a streaming handler may `stream` messages before.
/// Deadlines, client cancellation and shutdown end it through `cancel`,
/// which first tells the handler (`onCancel`) so its work can stop.
final class ActiveCall {
    let id: UInt64
    let method: String
    /// The method's row in the metrics.
    let metricsSlot: Int
    let caller: Caller
    /// A server stream (Watch): it lasts until someone ends it.
    let isStream: Bool
    let startNanoseconds: UInt64
    private(set) var isFinished = false
    /// Set by a handler whose work can stop early; called at most once.
    var onCancel: (() -> Void)?
    var deadlineTimer: LoopTimer?
    private weak var connection: Connection?

    init(id: UInt64, method: String, metricsSlot: Int, caller: Caller, isStream: Bool, connection: Connection) {
        self.id = id
        self.method = method
        self.metricsSlot = metricsSlot
        self.caller = caller
        self.isStream = isStream
        self.connection = connection
        startNanoseconds = EventLoop.monotonicNanoseconds()
    }

    func respond(_ message: some WireMessage) {
        guard end() else { return }
        connection?.callAnswered(self, with: message)
    }

    func fail(_ error: SidecarError) {
        guard end() else { return }
        connection?.callFinished(self, frame: .reply(id: id, error: error), code: error.code)
    }

    /// Answers with a domain result: its value, or its error as a status.
    func finish<Answer: WireMessage, Failure: Error>(_ result: Result<Answer, Failure>) {
        switch result {
        case .success(let answer): respond(answer)
        case .failure(let error): fail(StatusMapping.status(for: error))
        }
    }

    /// Sends one message of a server stream; false once the call is over or
    /// its connection cannot take more.
    @discardableResult
    func stream(_ message: some WireMessage) -> Bool {
        guard !isFinished, let connection else { return false }
        return connection.sendStreamMessage(ServerFrame(callID: id, kind: .streamMessage, payload: message.wireBytes()))
    }

    /// Ends the call early with `error`, after telling the handler.
    func cancel(_ error: SidecarError) {
        guard !isFinished else { return }
        let hook = onCancel
        onCancel = nil
        hook?()
        fail(error)
    }

    /// Forgets the call without answering: its connection is gone.
    func abandon() {
        guard !isFinished else { return }
        let hook = onCancel
        onCancel = nil
        hook?()
        isFinished = true
        deadlineTimer?.close()
        deadlineTimer = nil
    }

    /// Marks the call answered; false when it already was.
    private func end() -> Bool {
        guard !isFinished else { return false }
        isFinished = true
        onCancel = nil
        deadlineTimer?.close()
        deadlineTimer = nil
        return true
    }
}
