import SidecarCore
import SidecarProtoC

/// EnsureImage's one answer that needs no job, read and written by hand:
/// runners ask it before every spawn, and a present image is answered at
/// once, without a call record or protobuf-c.
package struct EnsureImageRequestView {
    /// The image name or reference, valid while the request bytes are.
    package var image = UnsafeRawBufferPointer(start: nil, count: 0)
    package var asksForLease = false

    /// nil for anything but a plain, well-formed request (unknown fields,
    /// unexpected wire types, text the protocol refuses): the general path
    /// then reads it with protobuf-c and gives the canonical answer, so the
    /// two readers can never disagree on what is accepted.
    package init?(wireBytes: UnsafeRawBufferPointer) {
        var reader = ProtobufWire.Reader(wireBytes)
        do {
            while !reader.isAtEnd {
                switch try reader.tag() {
                case 0x0a:
                    image = try reader.lengthDelimited()
                    try ProtobufText.check(image, field: "image")
                case 0x12: asksForLease = try !reader.lengthDelimited().isEmpty
                case 0x18, 0x20, 0x28: _ = try reader.varint()
                default: return nil
                }
            }
        } catch {
            return nil
        }
    }
}

extension EnsureImageResponse {
    /// What `EnsureImageResponse(answer: .present(...)).wireBytes()` is,
    /// byte for byte (a test holds them equal).
    package static func encodePresent(name: String, ref: String, id: String, into writer: ProtobufWriter) {
        writer.uint32(1, UInt32(ImageOutcome.present.wire.rawValue))
        writer.string(2, name)
        writer.string(3, ref)
        writer.string(4, id)
    }

    /// `encodePresent`'s bytes, for the daemon to keep with the image.
    package static func presentBytes(name: String, ref: String, id: String) -> [UInt8] {
        let writer = ProtobufWriter(capacity: 32 + name.utf8.count + ref.utf8.count + id.utf8.count)
        encodePresent(name: name, ref: ref, id: id, into: writer)
        return writer.bytes
    }
}
