/// A message of the Sidecar schema as a Swift value. The protobuf-c structs
/// never leave this module: each conformance converts at this edge.
/// Decoding throws `WireDecodingError`.
package protocol WireMessage: Sendable {
    init(wireBytes: UnsafeRawBufferPointer) throws
    func wireBytes() -> [UInt8]
    /// The bytes a client sends: `wireBytes()`, unless a string field
    /// holds what would not reach the daemon whole (SidecarError
    /// INVALID_ARGUMENT naming the field).
    func wireBytesForSending() throws -> [UInt8]
    /// Writes the message into a reused buffer; messages on the hot path
    /// implement it by hand, the others go through `wireBytes()`.
    func encode(into writer: ProtobufWriter)
}

extension WireMessage {
    package func encode(into writer: ProtobufWriter) {
        writer.append(encoded: wireBytes())
    }
}

extension WireMessage {
    package init(wireBytes: [UInt8]) throws {
        self = try wireBytes.withUnsafeBytes { try Self(wireBytes: $0) }
    }
}

/// Public although the coding is not: a client call whose answer does not
/// decode throws it.
public struct WireDecodingError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
