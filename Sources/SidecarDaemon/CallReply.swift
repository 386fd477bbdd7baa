import SidecarCore
import SidecarLoop
import SidecarWire

/// A deferred call as its handler sees it: it can answer only with its
/// method's response type, so a route's types are those of its descriptor.
struct CallReply<Response: WireMessage> {
    let call: ActiveCall

    var caller: Caller { call.caller }

    func respond(_ response: Response) {
        call.respond(response)
    }

    func fail(_ error: SidecarError) {
        call.fail(error)
    }

    /// Answers with a service's result: its value, or its error as a status.
    func finish<Failure: Error>(_ result: Result<Response, Failure>) {
        call.finish(result)
    }

    /// One message of a server stream; false once the call is over or its
    /// connection cannot take more.
    @discardableResult
    func stream(_ message: Response) -> Bool {
        call.stream(message)
    }

    /// Called at most once if the call ends (deadline, client cancel,
    /// shutdown) before the handler answered; nil to stop nothing.
    func onCancel(_ stop: (() -> Void)?) {
        guard let stop, !call.isFinished else { return }
        call.onCancel = stop
    }
}

extension CallReply where Response == EmptyMessage {
    /// Answers a method whose response has no fields with a result that
    /// carries nothing.
    func finish<Failure: Error>(_ result: Result<Void, Failure>) {
        call.finish(result.map { EmptyMessage() })
    }
}
