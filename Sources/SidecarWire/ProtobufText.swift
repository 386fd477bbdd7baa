import CProtobufC

/// What a string field may hold: valid UTF-8 without NUL. protobuf-c keeps
/// a string as a NUL-terminated copy, so "alias\0A" would read as "alias",
/// and Swift repairs invalid UTF-8 on the way in, so "u\xff" and "u\xfe"
/// would read alike: two different keys would become one. Both decoders,
/// the hand-written views and the generic protobuf-c path, refuse such a
/// field with the same rule.
package enum ProtobufText {
    /// Throws unless `bytes` are valid UTF-8 holding no NUL.
    @inline(__always)
    package static func check(_ bytes: UnsafeRawBufferPointer, field: @autoclosure () -> String) throws {
        guard let base = bytes.baseAddress else { return }
        var index = 0
        let count = bytes.count
        // Eight ASCII bytes at a time (no high bit set, no zero byte), then
        // the rest one by one: most strings (method names, keys, messages)
        // are plain ASCII and end here.
        while index + 8 <= count {
            guard isPlainASCII((base + index).loadUnaligned(as: UInt64.self)) else { break }
            index += 8
        }
        while index < count {
            let byte = base.load(fromByteOffset: index, as: UInt8.self)
            guard byte != 0, byte < 0x80 else { break }
            index += 1
        }
        while index < count {
            let byte = bytes[index]
            if byte == 0 { throw WireDecodingError("\(field()) holds a NUL byte") }
            if byte < 0x80 {
                index += 1
                continue
            }
            guard let length = sequenceLength(bytes, at: index) else {
                throw WireDecodingError("\(field()) is not valid UTF-8 (byte \(index))")
            }
            index += length
        }
    }

    @inline(__always)
    private static func isPlainASCII(_ word: UInt64) -> Bool {
        let hasZero = (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
        return word & 0x8080_8080_8080_8080 == 0 && hasZero == 0
    }

    /// The length of the well-formed UTF-8 sequence at `index` (Unicode's
    /// table 3-7: no overlong forms, no surrogates, nothing past U+10FFFF).
    private static func sequenceLength(_ bytes: UnsafeRawBufferPointer, at index: Int) -> Int? {
        let lead = bytes[index]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: (length, low) = (3, 0xA0)
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: (length, high) = (3, 0x9F)
        case 0xF0: (length, low) = (4, 0x90)
        case 0xF1...0xF3: length = 4
        case 0xF4: (length, high) = (4, 0x8F)
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            let (min, max) = offset == 1 ? (low, high) : (0x80, 0xBF)
            guard byte >= min, byte <= max else { return nil }
        }
        return length
    }

    /// `PROTOBUF_C_TYPE_STRING` and `_MESSAGE` (protobuf-c.h), whose names
    /// Swift does not import; a test holds them to real descriptors.
    package static let stringType: UInt32 = 14
    package static let messageType: UInt32 = 16

    /// Checks every string field of an encoded message, nested messages
    /// included, by the message's descriptor, before protobuf-c unpacks it.
    /// Tags follow `ProtobufWire.Reader.tag()`'s rule (protobuf-c alone would
    /// take a field number past 2^29 - 1, or 0 in a longer tag). Other bytes
    /// that are not a well-formed message are left for protobuf-c to refuse.
    package static func checkStrings(_ bytes: UnsafeRawBufferPointer, of descriptor: UnsafePointer<ProtobufCMessageDescriptor>) throws {
        var reader = ProtobufWire.Reader(bytes)
        while !reader.isAtEnd {
            let tag = try reader.tag()
            let number = tag >> 3
            switch tag & 7 {
            case 0:
                guard (try? reader.varint()) != nil else { return }
            case 1, 5:
                let width = tag & 7 == 1 ? 8 : 4
                guard reader.bytes.count - reader.offset >= width else { return }
                reader.offset += width
            case 2:
                guard let value = try? reader.lengthDelimited() else { return }
                guard number <= UInt64(UInt32.max), let field = protobuf_c_message_descriptor_get_field(descriptor, UInt32(number))
                else { continue }
                switch field.pointee.type.rawValue {
                case stringType:
                    try check(value, field: "field \(String(cString: field.pointee.name)) of \(String(cString: descriptor.pointee.name))")
                case messageType:
                    if let nested = field.pointee.descriptor {
                        try checkStrings(value, of: nested.assumingMemoryBound(to: ProtobufCMessageDescriptor.self))
                    }
                default:
                    break
                }
            default:
                return
            }
        }
    }
}
