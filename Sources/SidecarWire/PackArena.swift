import CProtobufC
import Glibc

/// C memory that a protobuf-c struct points into while it is packed: strings,
/// byte fields and arrays of sub-messages. Small pieces are bump-allocated
/// from one block (a malloc per string was a third of encoding a reply);
/// larger ones get their own. All is freed at once after packing.
package final class PackArena {
    private static let blockBytes = 2048
    private var block: UnsafeMutableRawPointer?
    private var used = 0
    private var allocations: [UnsafeMutableRawPointer] = []
    /// The C strings made from a Swift string holding a NUL: protobuf-c
    /// reads a string up to its first NUL, so it would pack them cut.
    private(set) var cutStrings: [UnsafeRawPointer] = []

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
            if let base = utf8.baseAddress {
                memory.copyMemory(from: base, byteCount: utf8.count)
                if memchr(base, 0, utf8.count) != nil { cutStrings.append(UnsafeRawPointer(memory)) }
            }
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

extension PackArena {
    /// A sub-message field: `value` as a C message owned by the arena,
    /// initialized (defaults, descriptor) before it is filled.
    package func message<M: ProtobufCConvertible>(_ value: M) -> UnsafeMutablePointer<M.CMessage> {
        let message = array(of: M.CMessage.self, count: 1)
        M.initialize(message)
        value.fill(&message.pointee, arena: self)
        return message
    }

    /// A repeated sub-message field as protobuf-c holds it: an array of
    /// pointers to messages, nil when empty.
    package func messages<M: ProtobufCConvertible>(_ values: [M]) -> UnsafeMutablePointer<UnsafeMutablePointer<M.CMessage>?>? {
        messages(count: values.count, initialize: M.initialize) { index, message in values[index].fill(&message, arena: self) }
    }

    /// The same for messages without a Swift type of their own (map entries).
    package func messages<C>(
        count: Int, initialize: (UnsafeMutablePointer<C>) -> Void, fill: (Int, inout C) -> Void
    ) -> UnsafeMutablePointer<UnsafeMutablePointer<C>?>? {
        guard count > 0 else { return nil }
        let structs = array(of: C.self, count: count)
        let pointers = array(of: UnsafeMutablePointer<C>?.self, count: count)
        for index in 0..<count {
            initialize(structs + index)
            fill(index, &structs[index])
            pointers[index] = structs + index
        }
        return pointers
    }
}
