#if canImport(Glibc)
import Glibc
#endif

/// The classifier's recent matches, by what was matched: runners report the
/// same error again and again, and matching a message against every rule
/// was a third of a Classify call. Direct-mapped (an entry replaces the one
/// in its slot), keyed by the message's bytes and both codes. Belongs to one
/// classifier: a reload makes a new one, empty.
public struct MatchMemo {
    private struct Entry {
        var message: [UInt8]
        var exitCode: Int32?
        var sqliteCode: Int32?
        var match: ErrorClassifier.Match
    }

    private var slots: [Entry?]

    public static let slotCount = 256
    /// Longer messages are matched every time, so the memo stays small.
    public static let longestMessageBytes = 1024

    public init() {
        slots = Array(repeating: nil, count: Self.slotCount)
    }

    /// The remembered match of this request, else `compute`'s, remembered.
    public mutating func match(
        message: UnsafeBufferPointer<UInt8>, exitCode: Int32?, sqliteCode: Int32?, _ compute: () -> ErrorClassifier.Match
    ) -> ErrorClassifier.Match {
        guard message.count <= Self.longestMessageBytes else { return compute() }
        let slot = Self.slot(message, exitCode, sqliteCode)
        if let entry = slots[slot], entry.exitCode == exitCode, entry.sqliteCode == sqliteCode,
            entry.message.count == message.count,
            message.isEmpty || entry.message.withUnsafeBufferPointer({ memcmp($0.baseAddress!, message.baseAddress!, message.count) == 0 })
        {
            return entry.match
        }
        let match = compute()
        slots[slot] = Entry(message: Array(message), exitCode: exitCode, sqliteCode: sqliteCode, match: match)
        return match
    }

    /// Eight bytes at a time, multiplied and folded (enough to spread
    /// messages over the slots; nothing depends on it but speed).
    private static func slot(_ message: UnsafeBufferPointer<UInt8>, _ exitCode: Int32?, _ sqliteCode: Int32?) -> Int {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(message.count)
        let raw = UnsafeRawBufferPointer(message)
        var offset = 0
        while offset + 8 <= raw.count {
            hash = (hash ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            hash ^= hash >> 32
            offset += 8
        }
        while offset < raw.count {
            hash = (hash ^ UInt64(raw[offset])) &* 0x0000_0100_0000_01B3
            offset += 1
        }
        hash ^= UInt64(UInt32(bitPattern: exitCode ?? -1)) &* 0xC4CE_B9FE_1A85_EC53
        hash ^= UInt64(UInt32(bitPattern: sqliteCode ?? -1)) << 17
        hash = (hash ^ (hash >> 29)) &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: hash >> 56) & (slotCount - 1)
    }
}
