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
package final class ProtobufWriter {
    private struct State {
        var storage: UnsafeMutablePointer<UInt8>
        var capacity: Int
        var count: Int
    }

    private let state: UnsafeMutablePointer<State>

    /// The longest tag and varint, or tag and fixed64.
    private static let maxScalarBytes = 20

    package init(capacity: Int = 256) {
        let capacity = max(capacity, Self.maxScalarBytes)
        state = .allocate(capacity: 1)
        state.initialize(to: State(storage: .allocate(capacity: capacity), capacity: capacity, count: 0))
    }

    deinit {
        state.pointee.storage.deallocate()
        state.deallocate()
    }

    package var count: Int { state.pointee.count }

    /// Empties the buffer and keeps its memory for the next message.
    package func reset() {
        state.pointee.count = 0
    }

    /// Empties the buffer; memory grown past `limit` (a burst) is given back.
    package func reset(keepingCapacityUpTo limit: Int) {
        state.pointee.count = 0
        guard state.pointee.capacity > limit else { return }
        let smaller = max(limit, Self.maxScalarBytes)
        state.pointee.storage.deallocate()
        state.pointee.storage = .allocate(capacity: smaller)
        state.pointee.capacity = smaller
    }

    /// The bytes written, valid only during `body`.
    package func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: state.pointee.storage, count: state.pointee.count))
    }

    package var bytes: [UInt8] {
        Array(UnsafeBufferPointer(start: state.pointee.storage, count: state.pointee.count))
    }

    // The small helpers are forced inline: as calls they were half the
    // cost of writing a reply. So are the field writers, into this module's
    // hot encoders (the reply frame, Health); across modules, where `package`
    // code cannot be inlined, they stay calls.
    @inline(__always)
    private func reserve(_ extra: Int) {
        if state.pointee.count + extra > state.pointee.capacity { grow(extra) }
    }

    @inline(never)
    private func grow(_ extra: Int) {
        let count = state.pointee.count
        let grown = max(state.pointee.capacity * 2, count + extra)
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        moved.update(from: state.pointee.storage, count: count)
        state.pointee.storage.deallocate()
        state.pointee.storage = moved
        state.pointee.capacity = grown
    }

    /// Writes go through a local cursor, and the count is stored once at
    /// the end: a byte written through a pointer may alias the state, so
    /// writing in place would reload the state after every byte.
    @inline(__always)
    private func writeCursor(reserving extra: Int) -> UnsafeMutablePointer<UInt8> {
        reserve(extra)
        return state.pointee.storage + state.pointee.count
    }

    @inline(__always)
    private func commit(_ cursor: UnsafeMutablePointer<UInt8>) {
        state.pointee.count = state.pointee.storage.distance(to: cursor)
    }

    @inline(__always)
    private static func put(_ byte: UInt8, at cursor: inout UnsafeMutablePointer<UInt8>) {
        cursor.pointee = byte
        cursor += 1
    }

    @inline(__always)
    private static func putVarint(_ value: UInt64, at cursor: inout UnsafeMutablePointer<UInt8>) {
        var rest = value
        while rest >= 0x80 {
            put(UInt8(truncatingIfNeeded: rest) | 0x80, at: &cursor)
            rest >>= 7
        }
        put(UInt8(truncatingIfNeeded: rest), at: &cursor)
    }

    private enum WireType: UInt32 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
    }

    @inline(__always)
    private static func putTag(_ field: UInt32, _ type: WireType, at cursor: inout UnsafeMutablePointer<UInt8>) {
        putVarint(UInt64(field << 3 | type.rawValue), at: &cursor)
    }

    @inline(__always)
    package func uint32(_ field: UInt32, _ value: UInt32) {
        uint64(field, UInt64(value))
    }

    @inline(__always)
    package func uint64(_ field: UInt32, _ value: UInt64) {
        guard value != 0 else { return }
        var cursor = writeCursor(reserving: Self.maxScalarBytes)
        Self.putTag(field, .varint, at: &cursor)
        Self.putVarint(value, at: &cursor)
        commit(cursor)
    }

    /// int32 and int64 (and enums): a negative value is sign-extended to ten bytes.
    package func int64(_ field: UInt32, _ value: Int64) {
        uint64(field, UInt64(bitPattern: value))
    }

    package func bool(_ field: UInt32, _ value: Bool) {
        guard value else { return }
        var cursor = writeCursor(reserving: Self.maxScalarBytes)
        Self.putTag(field, .varint, at: &cursor)
        Self.put(1, at: &cursor)
        commit(cursor)
    }

    /// Left out when it equals zero, -0.0 included, as protobuf-c does.
    @inline(__always)
    package func double(_ field: UInt32, _ value: Double) {
        guard value != 0 else { return }
        var cursor = writeCursor(reserving: Self.maxScalarBytes)
        Self.putTag(field, .fixed64, at: &cursor)
        UnsafeMutableRawPointer(cursor).storeBytes(of: value.bitPattern.littleEndian, as: UInt64.self)
        cursor += 8
        commit(cursor)
    }

    @inline(__always)
    package func string(_ field: UInt32, _ value: String) {
        guard !value.isEmpty else { return }
        // withUTF8 copies only a string that is not already UTF-8 in one
        // piece (bridged); ours always are.
        var value = value
        value.withUTF8 { lengthDelimited(field, UnsafeRawBufferPointer($0)) }
    }

    /// An element of a repeated string field: written even when empty.
    package func alwaysString(_ field: UInt32, _ value: String) {
        var value = value
        value.withUTF8 { lengthDelimited(field, UnsafeRawBufferPointer($0)) }
    }

    package func bytes(_ field: UInt32, _ value: [UInt8]) {
        guard !value.isEmpty else { return }
        value.withUnsafeBytes { lengthDelimited(field, $0) }
    }

    @inline(__always)
    package func bytes(_ field: UInt32, _ value: UnsafeRawBufferPointer) {
        guard !value.isEmpty else { return }
        lengthDelimited(field, value)
    }

    /// A frame's header (proto/sidecar/v1/README.md): the body's length in
    /// four bytes, big-endian.
    @inline(__always)
    package func frameHeader(bodyLength: Int) {
        var cursor = writeCursor(reserving: 4)
        UnsafeMutableRawPointer(cursor).storeBytes(of: UInt32(truncatingIfNeeded: bodyLength).bigEndian, as: UInt32.self)
        cursor += 4
        commit(cursor)
    }

    @inline(__always)
    private func lengthDelimited(_ field: UInt32, _ value: UnsafeRawBufferPointer) {
        var cursor = writeCursor(reserving: Self.maxScalarBytes + value.count)
        Self.putTag(field, .lengthDelimited, at: &cursor)
        Self.putVarint(UInt64(value.count), at: &cursor)
        if let base = value.baseAddress { UnsafeMutableRawPointer(cursor).copyMemory(from: base, byteCount: value.count) }
        cursor += value.count
        commit(cursor)
    }

    /// A message encoded some other way (protobuf-c, or once ahead), as is.
    package func append(encoded: [UInt8]) {
        encoded.withUnsafeBytes { append(encoded: $0) }
    }

    /// What another writer holds, as is.
    @inline(__always)
    package func append(_ other: ProtobufWriter) {
        append(encoded: UnsafeRawBufferPointer(start: other.state.pointee.storage, count: other.state.pointee.count))
    }

    @inline(__always)
    package func append(encoded: UnsafeRawBufferPointer) {
        var cursor = writeCursor(reserving: encoded.count)
        if let base = encoded.baseAddress { UnsafeMutableRawPointer(cursor).copyMemory(from: base, byteCount: encoded.count) }
        cursor += encoded.count
        commit(cursor)
    }
}
