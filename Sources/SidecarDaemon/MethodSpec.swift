import SidecarCore
import SidecarLoop
import SidecarWire

/// One entry of the routing table: a method name, who may call it, and the
/// code that starts it.
struct MethodSpec {
    /// How a method runs. The request bytes are valid only while the
    /// closure runs: a handler decodes them before it returns.
    enum Handler {
        /// Answered before it returns: no call record, deadline or
        /// cancellation, which are most of the cost of a call like Health.
        /// The reply is written into the server's reused buffer; a failure
        /// is returned instead.
        case answerNow((PeerCredentials, UnsafeRawBufferPointer, ProtobufWriter) -> SidecarError?)
        /// Answered later through its `ActiveCall` (a timer, the thread pool,
        /// a child process, a stream).
        case start((ActiveCall, UnsafeRawBufferPointer) -> Void)
    }

    let name: String
    let requiresAdmin: Bool
    let handler: Handler

    /// A method answered at once from its request.
    static func unary<Request: WireMessage, Response: WireMessage>(
        _ name: String, admin: Bool = false, _ handle: @escaping (PeerCredentials, Request) throws -> Response
    ) -> MethodSpec {
        MethodSpec(name: name, requiresAdmin: admin, handler: .answerNow { peer, payload, reply in
            do {
                try handle(peer, try Request(wireBytes: payload)).encode(into: reply)
                return nil
            } catch {
                return StatusMapping.status(for: error)
            }
        })
    }

    /// A method that answers later (a timer, the thread pool, a child
    /// process, or a stream): the handler keeps `call` and finishes it.
    static func deferred<Request: WireMessage>(
        _ name: String, admin: Bool = false, _ handle: @escaping (ActiveCall, Request) throws -> Void
    ) -> MethodSpec {
        MethodSpec(name: name, requiresAdmin: admin, handler: .start { call, payload in
            do {
                try handle(call, try Request(wireBytes: payload))
            } catch {
                call.fail(StatusMapping.status(for: error))
            }
        })
    }
}
