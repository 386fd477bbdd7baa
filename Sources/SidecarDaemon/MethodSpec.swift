import SidecarCore
import SidecarLoop
import SidecarWire

/// One entry of the routing table: a method's descriptor (its name, who
/// may call it, its request and response types, shared with the client)
/// and the code that starts it.
struct MethodSpec {
    /// How a method runs. The request bytes are valid only while the
    /// closure runs: a handler decodes them before it returns.
    enum Handler {
        /// Answered before it returns: no call record, deadline or
        /// cancellation, which are most of the cost of a call like Health.
        /// The reply is written into the server's reused buffer; a failure
        /// is returned instead.
        case answerNow((Caller, UnsafeRawBufferPointer, ProtobufWriter) -> SidecarError?)
        /// Answered at once like `answerNow`, from the request bytes alone,
        /// the same for every caller: the caller is not looked up.
        case answerInPlace((UnsafeRawBufferPointer, ProtobufWriter) -> SidecarError?)
        /// Answered later through its `ActiveCall` (a timer, the thread pool,
        /// a child process, a stream).
        case start((ActiveCall, UnsafeRawBufferPointer) -> Void)
        /// Answered at once when the first closure can (it wrote the reply
        /// and returned true), else started like `start`.
        /// The first closure answers from the request bytes alone, as `answerInPlace`.
        case answerNowOrStart((UnsafeRawBufferPointer, ProtobufWriter) -> Bool, (ActiveCall, UnsafeRawBufferPointer) -> Void)
    }

    let name: String
    let requiresAdmin: Bool
    let isStreaming: Bool
    let handler: Handler

    private init<Request, Response>(_ rpc: RPC<Request, Response>, _ handler: Handler) {
        name = rpc.name
        requiresAdmin = rpc.requiresAdmin
        isStreaming = rpc.isStreaming
        self.handler = handler
    }

    /// A method answered at once from its request.
    static func unary<Request, Response>(
        _ rpc: RPC<Request, Response>, _ handle: @escaping (Caller, Request) throws -> Response
    ) -> MethodSpec {
        MethodSpec(rpc, .answerNow { caller, payload, reply in
            do {
                try handle(caller, try Request(wireBytes: payload)).encode(into: reply)
                return nil
            } catch {
                return StatusMapping.status(for: error)
            }
        })
    }

    /// A method answered at once whose response has no fields.
    static func unary<Request>(
        _ rpc: RPC<Request, EmptyMessage>, _ handle: @escaping (Caller, Request) throws -> Void
    ) -> MethodSpec {
        unary(rpc) { caller, request -> EmptyMessage in
            try handle(caller, request)
            return EmptyMessage()
        }
    }

    /// A method answered at once that reads its request bytes itself and
    /// answers every caller alike (Classify matched in place, Health).
    static func inPlace<Request, Response>(
        _ rpc: RPC<Request, Response>, _ handle: @escaping (UnsafeRawBufferPointer, ProtobufWriter) -> SidecarError?
    ) -> MethodSpec {
        MethodSpec(rpc, .answerInPlace(handle))
    }

    /// A method that answers later (a timer, the thread pool, a child
    /// process, or a stream): the handler keeps `reply` and finishes it.
    static func deferred<Request, Response>(
        _ rpc: RPC<Request, Response>, _ handle: @escaping (CallReply<Response>, Request) throws -> Void
    ) -> MethodSpec {
        MethodSpec(rpc, .start(starter(handle)))
    }

    /// A method that usually answers later, but answers at once whenever
    /// `now` can from the request bytes alone (EnsureImage of a present
    /// image): `now` writes the reply and returns true, or returns false,
    /// having written nothing that counts, and `handle` runs as above.
    static func deferred<Request, Response>(
        _ rpc: RPC<Request, Response>, answeringAtOnce now: @escaping (UnsafeRawBufferPointer, ProtobufWriter) -> Bool,
        _ handle: @escaping (CallReply<Response>, Request) throws -> Void
    ) -> MethodSpec {
        MethodSpec(rpc, .answerNowOrStart(now, starter(handle)))
    }

    private static func starter<Request: WireMessage, Response: WireMessage>(
        _ handle: @escaping (CallReply<Response>, Request) throws -> Void
    ) -> (ActiveCall, UnsafeRawBufferPointer) -> Void {
        { call, payload in
            do {
                try handle(CallReply(call: call), try Request(wireBytes: payload))
            } catch {
                call.fail(StatusMapping.status(for: error))
            }
        }
    }
}
