import CProtobufC
import SidecarCore

/// A method as the daemon serves it and the client calls it: one value, so
/// the two cannot disagree on its name or its messages. `Response` is the
/// type of the answer, or of each message of a stream.
package struct RPC<Request: WireMessage, Response: WireMessage>: Sendable {
    /// On the wire: "Health", or "Debug.Sleep" outside the Sidecar service.
    package let name: String
    package let requiresAdmin: Bool
    package let isStreaming: Bool

    package init(_ name: String, requiresAdmin: Bool = false, isStreaming: Bool = false) {
        self.name = name
        self.requiresAdmin = requiresAdmin
        self.isStreaming = isStreaming
    }
}

/// An RPC without its Swift types, for a list of them all: its messages are
/// named by protobuf-c's descriptors, which the schema test holds to the
/// services'. `EmptyMessage` stands for every field-less message, so its
/// descriptor is that of one of them.
package struct RPCInfo: @unchecked Sendable {  // The descriptors are C constants.
    package let name: String
    package let requiresAdmin: Bool
    package let isStreaming: Bool
    package let request: UnsafePointer<ProtobufCMessageDescriptor>
    package let response: UnsafePointer<ProtobufCMessageDescriptor>

    package init<Request: ProtobufCConvertible, Response: ProtobufCConvertible>(_ rpc: RPC<Request, Response>) {
        name = rpc.name
        requiresAdmin = rpc.requiresAdmin
        isStreaming = rpc.isStreaming
        request = Request.descriptor
        response = Response.descriptor
    }
}
