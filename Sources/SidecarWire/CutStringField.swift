import CProtobufC

/// Which string field of a filled message protobuf-c would pack cut: the
/// arena knows the C strings made from a Swift string holding a NUL, and
/// the message's descriptor says where its strings are, its sub-messages'
/// (and map entries') included.
extension PackArena {
    /// "field key of sidecar.v1.ReserveRetrySlotRequest", or nil when no
    /// string of `message` holds a NUL.
    package func cutStringField(in message: UnsafePointer<ProtobufCMessage>) -> String? {
        guard !cutStrings.isEmpty else { return nil }
        return Self.cutStringField(in: UnsafeRawPointer(message), cut: Set(cutStrings))
    }

    /// `PROTOBUF_C_LABEL_REPEATED` and `PROTOBUF_C_FIELD_FLAG_ONEOF`
    /// (protobuf-c.h), whose names Swift does not import; a test holds them
    /// to real descriptors.
    package static let repeatedLabel: UInt32 = 2
    package static let oneofFlag: UInt32 = 1 << 2

    private static func cutStringField(in message: UnsafeRawPointer, cut: Set<UnsafeRawPointer>) -> String? {
        let descriptor = message.load(as: ProtobufCMessage.self).descriptor!
        for index in 0..<Int(descriptor.pointee.n_fields) {
            let field = descriptor.pointee.fields[index]
            let type = field.type.rawValue
            guard type == ProtobufText.stringType || type == ProtobufText.messageType else { continue }
            // A oneof member holds a value only when the oneof's case says so.
            if field.flags & oneofFlag != 0,
                message.load(fromByteOffset: Int(field.quantifier_offset), as: UInt32.self) != field.id
            {
                continue
            }
            // A string or sub-message is a pointer; a repeated one, a count
            // and a pointer to an array of them.
            let member = message + Int(field.offset)
            let (count, values): (Int, UnsafeRawPointer?) =
                field.label.rawValue == repeatedLabel
                ? (message.load(fromByteOffset: Int(field.quantifier_offset), as: Int.self), member.load(as: UnsafeRawPointer?.self))
                : (1, member)
            guard let values else { continue }
            for element in 0..<count {
                guard let value = values.load(fromByteOffset: element * MemoryLayout<UnsafeRawPointer>.stride, as: UnsafeRawPointer?.self)
                else { continue }
                if type == ProtobufText.stringType {
                    if cut.contains(value) { return "field \(String(cString: field.name)) of \(String(cString: descriptor.pointee.name))" }
                } else if let found = cutStringField(in: value, cut: cut) {
                    return found
                }
            }
        }
        return nil
    }
}
