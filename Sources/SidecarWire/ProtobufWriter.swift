/// Writes a proto3 message field by field, in the order given, leaving out
/// fields that hold their default as protobuf-c does. The replies of the
/// methods answered at once are written with it into memory the server
/// reuses, so such a reply costs no allocation; tests hold every message
/// written this way byte-equal to protobuf-c's encoding.
///
/// A class over raw memory rather than a `[UInt8]`: appending to an array
/// checks its uniqueness and capacity per byte, which cost more than the
/// encoding itself. Its state sits behind a pointer too, because every
/// access to a class's `var` is checked for exclusivity at run time.
public final class ProtobufWriter {
    private struct State {
        var storage: UnsafeMutablePointer<UInt8>
        var capacity: Int
        var count: Int
    }

    private let state: UnsafeMutablePointer<State>

    /// The longest tag and varint, or tag and fixed64.
    private static let maxScalarBytes = 20

    public init(capacity: Int = 256) {
        let capacity = max(capacity, Self.maxScalarBytes)
        state = .allocate(capacity: 1)
        state.initialize(to: State(storage: .allocate(capacity: capacity), capacity: capacity, count: 0))
    }

    deinit {
        state.pointee.storage.deallocate()
        state.deallocate()
    }

    public var count: Int { state.pointee.count }

    /// Empties the buffer and keeps its memory for the next message.
    public func reset() {
        state.pointee.count = 0
    }

    /// Empties the buffer; memory grown past `limit` (a burst) is given back.
    public func reset(keepingCapacityUpTo limit: Int) {
        state.pointee.count = 0
        guard state.pointee.capacity > limit else { return }
        let smaller = max(limit, Self.maxScalarBytes)
        state.pointee.storage.deallocate()
        state.pointee.storage = .allocate(capacity: smaller)
        state.pointee.capacity = smaller
    }

    /// The bytes written, valid only during `body`.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: state.pointee.storage, count: state.pointee.count))
    }

    public var bytes: [UInt8] {
        Array(UnsafeBufferPointer(start: state.pointee.storage, count: state.pointee.count))
    }

    private func reserve(_ extra: Int) {
        let count = state.pointee.count
        guard count + extra > state.pointee.capacity else { return }
        let grown = max(state.pointee.capacity * 2, count + extra)
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        moved.update(from: state.pointee.storage, count: count)
        state.pointee.storage.deallocate()
        state.pointee.storage = moved
        state.pointee.capacity = grown
    }

    /// Appends one byte; room is reserved by the caller.
    private func put(_ byte: UInt8) {
        state.pointee.storage[state.pointee.count] = byte
        state.pointee.count += 1
    }

    /// The next free byte; room is reserved by the caller.
    private var end: UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(state.pointee.storage + state.pointee.count)
    }

    /// Room is reserved by the caller.
    private func putVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            put(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        put(UInt8(truncatingIfNeeded: rest))
    }

    private enum WireType: UInt32 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
    }

    private func putTag(_ field: UInt32, _ type: WireType) {
        putVarint(UInt64(field << 3 | type.rawValue))
    }

    public func uint32(_ field: UInt32, _ value: UInt32) {
        uint64(field, UInt64(value))
    }

    public func uint64(_ field: UInt32, _ value: UInt64) {
        guard value != 0 else { return }
        reserve(Self.maxScalarBytes)
        putTag(field, .varint)
        putVarint(value)
    }

    /// int32 and int64 (and enums): a negative value is sign-extended to ten bytes.
    public func int64(_ field: UInt32, _ value: Int64) {
        uint64(field, UInt64(bitPattern: value))
    }

    public func bool(_ field: UInt32, _ value: Bool) {
        guard value else { return }
        reserve(Self.maxScalarBytes)
        putTag(field, .varint)
        put(1)
    }

    /// Left out when it equals zero, -0.0 included, as protobuf-c does.
    public func double(_ field: UInt32, _ value: Double) {
        guard value != 0 else { return }
        reserve(Self.maxScalarBytes)
        putTag(field, .fixed64)
        end.storeBytes(of: value.bitPattern.littleEndian, as: UInt64.self)
        state.pointee.count += 8
    }

    public func string(_ field: UInt32, _ value: String) {
        guard !value.isEmpty else { return }
        let written: Void? = value.utf8.withContiguousStorageIfAvailable {
            lengthDelimited(field, UnsafeRawBufferPointer($0))
        }
        if written == nil { bytes(field, Array(value.utf8)) }
    }

    public func bytes(_ field: UInt32, _ value: [UInt8]) {
        guard !value.isEmpty else { return }
        value.withUnsafeBytes { lengthDelimited(field, $0) }
    }

    public func bytes(_ field: UInt32, _ value: UnsafeRawBufferPointer) {
        guard !value.isEmpty else { return }
        lengthDelimited(field, value)
    }

    /// A frame's header (proto/sidecar/v1/README.md): the body's length in
    /// four bytes, big-endian.
    public func frameHeader(bodyLength: Int) {
        reserve(4)
        end.storeBytes(of: UInt32(truncatingIfNeeded: bodyLength).bigEndian, as: UInt32.self)
        state.pointee.count += 4
    }

    private func lengthDelimited(_ field: UInt32, _ value: UnsafeRawBufferPointer) {
        reserve(Self.maxScalarBytes + value.count)
        putTag(field, .lengthDelimited)
        putVarint(UInt64(value.count))
        if let base = value.baseAddress { end.copyMemory(from: base, byteCount: value.count) }
        state.pointee.count += value.count
    }

    /// A message encoded some other way (protobuf-c), as the whole payload.
    public func append(encoded: [UInt8]) {
        reserve(encoded.count)
        encoded.withUnsafeBytes { raw in
            if let base = raw.baseAddress { end.copyMemory(from: base, byteCount: raw.count) }
        }
        state.pointee.count += encoded.count
    }
}
