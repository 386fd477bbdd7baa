import SidecarCore
import SidecarLoop
import SidecarWire

/// One entry of the routing table: a method name, who may call it, and the
/// code that starts it.
struct MethodSpec {
    let name: String
    let requiresAdmin: Bool
    /// The request bytes are valid only while `start` runs: a handler decodes
    /// them before it returns.
    /// Nil for a method of a later issue: it answers UNIMPLEMENTED.
    let start: ((ActiveCall, UnsafeRawBufferPointer) -> Void)?
    /// Set instead of `start` for a method answered before it returns: it
    /// needs no call record, deadline or cancellation, which are most of
    /// the cost of a call like Health.
    let answerNow: ((PeerCredentials, UnsafeRawBufferPointer) -> Result<[UInt8], SidecarError>)?

    init(name: String, requiresAdmin: Bool, start: ((ActiveCall, UnsafeRawBufferPointer) -> Void)?) {
        self.name = name
        self.requiresAdmin = requiresAdmin
        self.start = start
        answerNow = nil
    }

    private init(
        name: String, requiresAdmin: Bool,
        answerNow: @escaping (PeerCredentials, UnsafeRawBufferPointer) -> Result<[UInt8], SidecarError>
    ) {
        self.name = name
        self.requiresAdmin = requiresAdmin
        start = nil
        self.answerNow = answerNow
    }

    /// A method answered at once from its request.
    static func unary<Request: WireMessage, Response: WireMessage>(
        _ name: String, admin: Bool = false, _ handle: @escaping (PeerCredentials, Request) throws -> Response
    ) -> MethodSpec {
        MethodSpec(name: name, requiresAdmin: admin) { peer, payload in
            do {
                return .success(try handle(peer, try Request(wireBytes: payload)).wireBytes())
            } catch {
                return .failure(StatusMapping.status(for: error))
            }
        }
    }

    /// A method that answers later (a timer, the thread pool, a child
    /// process, or a stream): the handler keeps `call` and finishes it.
    static func deferred<Request: WireMessage>(
        _ name: String, admin: Bool = false, _ handle: @escaping (ActiveCall, Request) throws -> Void
    ) -> MethodSpec {
        MethodSpec(name: name, requiresAdmin: admin) { call, payload in
            do {
                try handle(call, try Request(wireBytes: payload))
            } catch {
                call.fail(StatusMapping.status(for: error))
            }
        }
    }

    /// A method whose issue has not landed: UNIMPLEMENTED with a clear message.
    static func notYetImplemented(_ name: String, admin: Bool = false) -> MethodSpec {
        MethodSpec(name: name, requiresAdmin: admin, start: nil)
    }
}
