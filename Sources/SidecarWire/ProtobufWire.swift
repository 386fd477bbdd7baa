/// Protobuf read by hand, for the decoders on the daemon's hot path
/// (`ClientFrameView`, `ClassifyRequestView`): every call crosses them, and
/// protobuf-c's generic walk with its allocations cost more than the call
/// itself. Tests hold each hand decoder to what protobuf-c reads.
package enum ProtobufWire {
    package static func varintSize(_ value: UInt64) -> Int {
        var size = 1
        var rest = value >> 7
        while rest != 0 {
            size += 1
            rest >>= 7
        }
        return size
    }

    /// Reads the fields of a message one at a time: the decoder reads a
    /// tag, then the value its wire type says.
    package struct Reader {
        package let bytes: UnsafeRawBufferPointer
        package var offset = 0

        package init(_ bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        package var isAtEnd: Bool { offset >= bytes.count }

        // Inlined into the two hot decoders (ClientFrameView, ClassifyRequest):
        // as calls, the reader was a tenth of a Health call.
        @inline(__always)
        package mutating func varint() throws -> UInt64 {
            // One and two bytes (tags, kinds, most call ids and lengths) inline.
            if offset + 1 < bytes.count {
                let first = bytes[offset]
                if first < 0x80 {
                    offset += 1
                    return UInt64(first)
                }
                let second = bytes[offset + 1]
                if second < 0x80 {
                    offset += 2
                    return UInt64(first & 0x7f) | UInt64(second) << 7
                }
            } else if offset < bytes.count, bytes[offset] < 0x80 {
                offset += 1
                return UInt64(bytes[offset - 1])
            }
            return try longVarint()
        }

        /// A field's tag: a field number from 1 to 2^29 - 1 in at most five
        /// bytes, as protobuf defines it. `ProtobufText.checkStrings` holds
        /// protobuf-c's decoding to the same rule, so the two agree.
        @inline(__always)
        package mutating func tag() throws -> UInt64 {
            let start = offset
            let tag = try varint()
            let number = tag >> 3
            guard number != 0, number <= 536_870_911, offset - start <= 5 else {
                throw WireDecodingError("field number \(number) at byte \(start) is not 1 to 2^29 - 1 in at most five bytes")
            }
            return tag
        }

        @inline(never)
        private mutating func longVarint() throws -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while offset < bytes.count {
                let byte = bytes[offset]
                offset += 1
                // A tenth byte's bits past 64 are dropped, as protobuf-c
                // (and Google's parsers) drop them; an eleventh is an error.
                value |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
                if shift > 63 { break }
            }
            throw WireDecodingError("malformed varint at byte \(offset)")
        }

        /// The bytes of a length-delimited field whose tag was just read.
        @inline(__always)
        package mutating func lengthDelimited() throws -> UnsafeRawBufferPointer {
            let length = try varint()
            guard length <= UInt64(bytes.count - offset) else {
                throw WireDecodingError("a field runs past the end of the message at byte \(offset)")
            }
            let start = offset
            offset += Int(length)
            return UnsafeRawBufferPointer(rebasing: bytes[start..<offset])
        }

        /// Skips the field of `tag`, which the decoder does not know: an
        /// unknown field number is skipped, as protobuf does; a known
        /// number with another wire type, and wire types 3, 4, 6 and 7,
        /// are errors.
        package mutating func skipField(tag: UInt64, knownNumbers: ClosedRange<UInt64>, of message: String) throws {
            let number = tag >> 3
            guard number != 0 else { throw WireDecodingError("field number 0 at byte \(offset)") }
            guard !knownNumbers.contains(number) else {
                throw WireDecodingError("field \(number) of \(message) has the wrong wire type")
            }
            switch tag & 7 {
            case 0:
                _ = try varint()
            case 1, 5:
                let width = tag & 7 == 1 ? 8 : 4
                guard bytes.count - offset >= width else { throw WireDecodingError("truncated fixed field") }
                offset += width
            case 2:
                _ = try lengthDelimited()
            default:
                throw WireDecodingError("unsupported wire type \(tag & 7) in field \(number)")
            }
        }
    }
}

extension ProtobufWire.Reader {
    /// The varint field `number`, read without decoding the message: enough
    /// to find the call id at the start of a frame too large to decode,
    /// whose bytes end anywhere.
    package func uint64Field(_ number: UInt64) -> UInt64? {
        var reader = self
        while !reader.isAtEnd {
            guard let tag = try? reader.varint() else { return nil }
            switch tag & 7 {
            case 0:
                guard let value = try? reader.varint() else { return nil }
                if tag >> 3 == number { return value }
            case 1: reader.offset += 8
            case 5: reader.offset += 4
            case 2:
                guard (try? reader.lengthDelimited()) != nil else { return nil }
            default:
                return nil
            }
        }
        return nil
    }
}
