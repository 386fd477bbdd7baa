import CProtobufC
import Glibc
import SidecarProtoC

/// C memory that a protobuf-c struct points into while it is packed: strings,
/// byte fields and arrays of sub-messages. Small pieces are bump-allocated
/// from one block (a malloc per string was a third of encoding a reply);
/// larger ones get their own. All is freed at once after packing.
package final class PackArena {
    private static let blockBytes = 2048
    private var block: UnsafeMutableRawPointer?
    private var used = 0
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit {
        if let block { free(block) }
        for pointer in allocations { free(pointer) }
    }

    /// `count` bytes aligned to 8, valid until the arena goes.
    private func allocate(_ count: Int) -> UnsafeMutableRawPointer {
        let rounded = (max(count, 1) + 7) & ~7
        if rounded <= Self.blockBytes {
            if block == nil { block = malloc(Self.blockBytes)! }
            if used + rounded <= Self.blockBytes {
                defer { used += rounded }
                return block! + used
            }
        }
        let memory = malloc(rounded)!
        allocations.append(memory)
        return memory
    }

    /// A C copy of `text`, or nil for "": protobuf-c leaves a nil string out,
    /// as proto3 leaves out a default.
    package func string(_ text: String) -> UnsafeMutablePointer<CChar>? {
        text.isEmpty ? nil : cString(text)
    }

    package func cString(_ text: String) -> UnsafeMutablePointer<CChar> {
        var text = text
        return text.withUTF8 { utf8 in
            let memory = allocate(utf8.count + 1)
            if let base = utf8.baseAddress { memory.copyMemory(from: base, byteCount: utf8.count) }
            memory.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
            return memory.assumingMemoryBound(to: CChar.self)
        }
    }

    package func bytes(_ data: [UInt8]) -> ProtobufCBinaryData {
        guard !data.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let memory = allocate(data.count)
        data.withUnsafeBytes { memory.copyMemory(from: $0.baseAddress!, byteCount: data.count) }
        return ProtobufCBinaryData(len: data.count, data: memory.assumingMemoryBound(to: UInt8.self))
    }

    /// A C array of `count` values of T, uninitialized.
    package func array<T>(of _: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        precondition(MemoryLayout<T>.alignment <= 8)
        return allocate(count * MemoryLayout<T>.stride).bindMemory(to: T.self, capacity: max(1, count))
    }

    package func strings(_ texts: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        guard !texts.isEmpty else { return nil }
        let list = array(of: UnsafeMutablePointer<CChar>?.self, count: texts.count)
        for (index, text) in texts.enumerated() {
            // Elements of a repeated string must not be nil, even when empty.
            list[index] = cString(text)
        }
        return list
    }
}

package enum ProtobufCField {
    package static func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        return String(cString: pointer)
    }

    package static func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard data.len > 0, let base = data.data else { return [] }
        return [UInt8](UnsafeBufferPointer(start: base, count: data.len))
    }

    package static func strings(_ list: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, count: Int) -> [String] {
        guard let list, count > 0 else { return [] }
        return (0..<count).map { string(list[$0]) }
    }

    /// Packs `message` into a new array of exactly its encoded size.
    package static func pack<M>(
        _ message: inout M,
        size: (UnsafePointer<M>) -> Int,
        pack: (UnsafePointer<M>, UnsafeMutablePointer<UInt8>) -> Int
    ) -> [UInt8] {
        withUnsafePointer(to: &message) { pointer in
            let length = size(pointer)
            guard length > 0 else { return [] }
            return [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
                initialized = pack(pointer, buffer.baseAddress!)
            }
        }
    }

    /// Appends a frame (header and body) for `message` to `buffer`.
    package static func appendFrame<M>(
        _ message: inout M,
        to buffer: inout [UInt8],
        size: (UnsafePointer<M>) -> Int,
        pack: (UnsafePointer<M>, UnsafeMutablePointer<UInt8>) -> Int
    ) {
        withUnsafePointer(to: &message) { pointer in
            let length = size(pointer)
            FrameDecoder.appendHeader(length: length, to: &buffer)
            guard length > 0 else { return }
            buffer += [UInt8](unsafeUninitializedCapacity: length) { body, initialized in
                initialized = pack(pointer, body.baseAddress!)
            }
        }
    }

    /// Unpacks with protobuf-c, reads the Swift value out, frees the C struct.
    package static func unpack<M, R>(
        _ bytes: UnsafeRawBufferPointer,
        name: String,
        unpack: (Int, UnsafePointer<UInt8>?) -> UnsafeMutablePointer<M>?,
        free release: (UnsafeMutablePointer<M>) -> Void,
        read: (M) throws -> R
    ) throws -> R {
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        // protobuf-c wants a non-nil pointer even for an empty message.
        var empty: UInt8 = 0
        let message: UnsafeMutablePointer<M>? =
            if let base { unpack(bytes.count, base) } else { withUnsafePointer(to: &empty) { unpack(0, $0) } }
        guard let message else { throw WireDecodingError("malformed \(name) message (\(bytes.count) bytes)") }
        defer { release(message) }
        return try read(message.pointee)
    }
}
