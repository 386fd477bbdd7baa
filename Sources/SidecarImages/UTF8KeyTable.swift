#if canImport(Glibc)
import Glibc
#endif

/// Entries by the UTF-8 bytes of a name or ref, found without making a
/// String of them: EnsureImage's answer-at-once path had one String and one
/// SipHash per call, a quarter of its cost. FNV-1a over the bytes, open
/// addressing, grown at half full; no removal (the catalog rebuilds it).
struct UTF8KeyTable {
    private var keys: [[UInt8]] = []
    private var values: [ImageEntry?] = []
    private var mask = 0
    private(set) var count = 0

    init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size *= 2 }
        keys = Array(repeating: [], count: size)
        values = Array(repeating: nil, count: size)
        mask = size - 1
    }

    @inline(__always)
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return Int(truncatingIfNeeded: hash ^ (hash >> 32))
    }

    func entry(for key: UnsafeRawBufferPointer) -> ImageEntry? {
        var slot = Self.hash(key) & mask
        while let value = values[slot] {
            let stored = keys[slot]
            if stored.count == key.count
                && stored.withUnsafeBytes({ key.isEmpty || memcmp($0.baseAddress!, key.baseAddress!, key.count) == 0 })
            {
                return value
            }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Adds `key` unless it is already there (the first one in wins).
    mutating func insertIfAbsent(_ key: String, _ entry: ImageEntry) {
        var key = key
        key.withUTF8 { bytes in
            let raw = UnsafeRawBufferPointer(bytes)
            guard self.entry(for: raw) == nil else { return }
            if (count + 1) * 2 > keys.count { grow() }
            var slot = Self.hash(raw) & mask
            while values[slot] != nil { slot = (slot + 1) & mask }
            keys[slot] = Array(raw)
            values[slot] = entry
            count += 1
        }
    }

    private mutating func grow() {
        var bigger = UTF8KeyTable(capacity: keys.count)
        for (key, value) in zip(keys, values) {
            guard let value else { continue }
            bigger.insertIfAbsent(String(decoding: key, as: UTF8.self), value)
        }
        self = bigger
    }
}
