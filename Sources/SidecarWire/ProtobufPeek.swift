/// Reads one varint field from the start of an encoded message without
/// decoding it: enough to find the call id of a frame too large to decode.
enum ProtobufPeek {
    static func uint64Field(_ number: UInt64, in bytes: UnsafeRawBufferPointer) -> UInt64? {
        var offset = 0
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while offset < bytes.count, shift < 64 {
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        while offset < bytes.count {
            guard let tag = varint() else { return nil }
            let field = tag >> 3
            switch tag & 7 {
            case 0:
                guard let value = varint() else { return nil }
                if field == number { return value }
            case 1: offset += 8
            case 5: offset += 4
            case 2:
                guard let length = varint(), length <= UInt64(bytes.count) else { return nil }
                offset += Int(length)
            default:
                return nil
            }
        }
        return nil
    }
}
