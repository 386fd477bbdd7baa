import CProtobufC
import SidecarCore

/// A message coded by protobuf-c. A conformer gives only its generated C
/// struct, that struct's generated init function and its fields both ways;
/// packing, unpacking and freeing are protobuf-c's generic functions, led by
/// the descriptor the init function stores in the struct.
package protocol ProtobufCConvertible: WireMessage {
    /// The generated struct, e.g. `Sidecar__V1__Lease`.
    associatedtype CMessage
    /// The generated `…__init`: sets every default and the descriptor.
    static func initialize(_ message: UnsafeMutablePointer<CMessage>)
    /// Copies what it keeps: the unpacked message is freed after this returns.
    init(reading message: CMessage) throws
    /// Fills an initialized struct; what it points to belongs to `arena`.
    func fill(_ message: inout CMessage, arena: PackArena)
}

extension ProtobufCConvertible {
    package init(wireBytes: UnsafeRawBufferPointer) throws {
        try self.init(protobufCWireBytes: wireBytes)
    }

    package func wireBytes() -> [UInt8] {
        protobufCWireBytes()
    }

    /// The generated descriptor, at the address the C code uses. Swift
    /// imports a C global as a value, so a pointer to it would point at a
    /// temporary copy; protobuf-c keeps the descriptor pointer in every
    /// message it unpacks and reads it back to free the message. The init
    /// function stores the real one. Not cached: an init costs less than
    /// the coding it comes with.
    package static var descriptor: UnsafePointer<ProtobufCMessageDescriptor> {
        withUnsafeTemporaryAllocation(of: CMessage.self, capacity: 1) { message in
            initialize(message.baseAddress!)
            return UnsafeRawPointer(message.baseAddress!).load(as: ProtobufCMessage.self).descriptor
        }
    }

    /// protobuf-c's decoding; a conformer with a hand decoder is held equal to it.
    package init(protobufCWireBytes bytes: UnsafeRawBufferPointer) throws {
        let descriptor = Self.descriptor
        try ProtobufText.checkStrings(bytes, of: descriptor)
        // protobuf-c wants a non-nil pointer even for an empty message.
        var empty: UInt8 = 0
        let unpacked: UnsafeMutablePointer<ProtobufCMessage>? =
            if let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) {
                protobuf_c_message_unpack(descriptor, nil, bytes.count, base)
            } else {
                withUnsafePointer(to: &empty) { protobuf_c_message_unpack(descriptor, nil, 0, $0) }
            }
        guard let unpacked else {
            throw WireDecodingError("malformed \(String(cString: descriptor.pointee.short_name)) message (\(bytes.count) bytes)")
        }
        defer { protobuf_c_message_free_unpacked(unpacked, nil) }
        try self.init(reading: UnsafeRawPointer(unpacked).load(as: CMessage.self))
    }

    /// protobuf-c's encoding; a conformer with a hand encoder is held equal to it.
    package func protobufCWireBytes() -> [UInt8] {
        withFilledMessage { message, _ in Self.pack(message) }
    }

    /// protobuf-c's encoding, refused when a string field holds a NUL:
    /// protobuf-c would pack it cut there, so a key "alias\0A" would go out
    /// as "alias". The daemon refuses such a string with INVALID_ARGUMENT;
    /// a client refuses it, naming the field, before anything is sent.
    package func wireBytesForSending() throws -> [UInt8] {
        try withFilledMessage { message, arena in
            if let field = arena.cutStringField(in: message) {
                throw SidecarError(.invalidArgument, "not sent: \(field) holds a NUL byte")
            }
            return Self.pack(message)
        }
    }

    /// This value as its C struct, valid only during `body`.
    private func withFilledMessage<R>(_ body: (UnsafePointer<ProtobufCMessage>, PackArena) throws -> R) rethrows -> R {
        let arena = PackArena()
        return try withExtendedLifetime(arena) {
            try withUnsafeTemporaryAllocation(of: CMessage.self, capacity: 1) { storage in
                let c = storage.baseAddress!
                Self.initialize(c)
                fill(&c.pointee, arena: arena)
                // Every generated struct starts with its ProtobufCMessage.
                return try body(UnsafePointer<ProtobufCMessage>(OpaquePointer(c)), arena)
            }
        }
    }

    private static func pack(_ message: UnsafePointer<ProtobufCMessage>) -> [UInt8] {
        let length = protobuf_c_message_get_packed_size(message)
        guard length > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
            initialized = protobuf_c_message_pack(message, buffer.baseAddress!)
        }
    }
}
