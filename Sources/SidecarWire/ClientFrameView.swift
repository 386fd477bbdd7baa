/// A ClientFrame read in place: `payload` points into the frame body and is
/// valid only as long as that body is.
package struct ClientFrameView {
    package var callID: UInt64 = 0
    package var kind = ClientFrame.Kind.unspecified
    /// The method name's bytes: the server matches them against its last
    /// route before it makes a String of them.
    package var methodBytes = UnsafeRawBufferPointer(start: nil, count: 0)
    package var timeoutMilliseconds: UInt32 = 0
    package var payload = UnsafeRawBufferPointer(start: nil, count: 0)
    package var protocolVersion: UInt32 = 0

    package init(frameBody: UnsafeRawBufferPointer) throws {
        var reader = ProtobufWire.Reader(frameBody)
        while !reader.isAtEnd {
            // Tags: field number << 3 | wire type (0 varint, 2 bytes).
            let tag = try reader.tag()
            switch tag {
            case 0x08: callID = try reader.varint()
            case 0x10:
                kind = ClientFrame.Kind(rawValue: UInt32(truncatingIfNeeded: try reader.varint())) ?? .unspecified
            case 0x1a:
                methodBytes = try reader.lengthDelimited()
                try ProtobufText.check(methodBytes, field: "field method of sidecar.v1.ClientFrame")
            case 0x20: timeoutMilliseconds = UInt32(truncatingIfNeeded: try reader.varint())
            case 0x2a: payload = try reader.lengthDelimited()
            case 0x30: protocolVersion = UInt32(truncatingIfNeeded: try reader.varint())
            case 0x3a:  // client_name: only for logs, but held to the same rule
                try ProtobufText.check(try reader.lengthDelimited(), field: "field client_name of sidecar.v1.ClientFrame")
            default: try reader.skipField(tag: tag, knownNumbers: 1...7, of: "ClientFrame")
            }
        }
    }

    package var method: String { String(decoding: methodBytes, as: UTF8.self) }
}
