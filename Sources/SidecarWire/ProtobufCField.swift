import CProtobufC

/// Reads the fields of a message protobuf-c unpacked into Swift values
/// that outlive it.
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

    /// A repeated sub-message field; a nil entry (which protobuf-c never
    /// writes) is skipped.
    package static func messages<M: ProtobufCConvertible>(
        _ list: UnsafeMutablePointer<UnsafeMutablePointer<M.CMessage>?>?, count: Int
    ) throws -> [M] {
        guard let list, count > 0 else { return [] }
        return try (0..<count).compactMap { index in try list[index].map { try M(reading: $0.pointee) } }
    }
}
