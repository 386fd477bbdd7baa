#if canImport(Glibc)
import Glibc
#endif

/// The conditions of every rule, in matching order, laid out flat for one
/// pass over the message whatever the number of rules.
///
/// Substrings of four bytes or more are found Wu-Manber style: a window as
/// long as the shortest of them slides over the message, and the three
/// bytes at its end say how far it may jump (no substring has them near
/// enough its start); only where the jump is zero is a substring
/// possibly starting at the window, and then a 64 Ki-bit filter, indexed by
/// a hash of the window's first four bytes, then the table of prefixes, then
/// the candidates' bytes decide. A call reads about half the message's
/// positions, a load and a table read each, instead of one `memchr` pass per
/// substring (issue 13 took the rules from 13 to 50+). Shorter substrings
/// (config rules may have them) are searched one by one.
///
/// The first rule in order wins, wherever in the message its substring is:
/// the pass keeps the lowest index of a substring-only rule matched, then
/// the rules with exit or SQLite codes before it are checked in order.
struct RuleMatcher: Sendable {
    private struct CodeRule: Sendable {
        var index: Int
        var needsSubstring: Bool
        var exitCode: Int32?
        var sqliteCodes: Range<Int>
    }

    /// The scan's tables in plain memory, made once per rule set and never
    /// changed: the per-byte loop reads them through pointers, with no
    /// bounds checks or reference counting.
    private final class Tables: @unchecked Sendable {
        /// 64 Ki bits, by `hash` of a 4-byte prefix.
        let filter: UnsafeMutablePointer<UInt64>
        /// Open addressing: slot `i` holds prefix `key[i]` and the needles
        /// `first[i]..<end[i]` (equal: a free slot).
        let key: UnsafeMutablePointer<UInt32>
        let first: UnsafeMutablePointer<Int32>
        let end: UnsafeMutablePointer<Int32>
        let mask: Int
        /// Needle `k` is `bytes[start[k]..<start[k] + length[k]]`, of rule `rule[k]`.
        let bytes: UnsafeMutablePointer<UInt8>
        let start: UnsafeMutablePointer<Int32>
        let length: UnsafeMutablePointer<Int32>
        let rule: UnsafeMutablePointer<Int32>
        /// By rule: it also needs an exit or SQLite code.
        let hasCodes: UnsafeMutablePointer<Bool>
        /// The window: the shortest needle's length (4 or more; 0 when
        /// there are no needles).
        let window: Int
        /// By a hash of the three bytes ending a window: how far the window
        /// may move on, at most `window - 2`; 0 where a needle may start at
        /// the window. Two triples on one entry keep the smaller shift, so a
        /// collision only costs a look.
        let shift: UnsafeMutablePointer<UInt8>

        init(needles: [(bytes: [UInt8], rule: Int)], hasCodes codes: [Bool]) {
            // Sorted by prefix, then rule: a prefix's candidates are one
            // range, lowest rule first.
            let needles = needles.sorted { (RuleMatcher.prefix($0.bytes), $0.rule) < (RuleMatcher.prefix($1.bytes), $1.rule) }
            var prefixes: [(key: UInt32, range: Range<Int>)] = []
            for (k, needle) in needles.enumerated() {
                let key = RuleMatcher.prefix(needle.bytes)
                if let last = prefixes.last, last.key == key {
                    prefixes[prefixes.count - 1].range = last.range.lowerBound..<(k + 1)
                } else {
                    prefixes.append((key, k..<(k + 1)))
                }
            }
            var size = 16
            while size < prefixes.count * 2 { size *= 2 }
            mask = size - 1
            filter = .allocate(capacity: 1024)
            filter.initialize(repeating: 0, count: 1024)
            key = .allocate(capacity: size)
            key.initialize(repeating: 0, count: size)
            first = .allocate(capacity: size)
            first.initialize(repeating: 0, count: size)
            end = .allocate(capacity: size)
            end.initialize(repeating: 0, count: size)
            for (prefixKey, range) in prefixes {
                let bit = Int(RuleMatcher.hash(prefixKey))
                filter[bit >> 6] |= 1 << UInt64(bit & 63)
                var slot = bit & mask
                while first[slot] != end[slot] { slot = (slot + 1) & mask }
                key[slot] = prefixKey
                first[slot] = Int32(range.lowerBound)
                end[slot] = Int32(range.upperBound)
            }
            let total = needles.reduce(0) { $0 + $1.bytes.count }
            bytes = .allocate(capacity: max(total, 1))
            start = .allocate(capacity: max(needles.count, 1))
            length = .allocate(capacity: max(needles.count, 1))
            rule = .allocate(capacity: max(needles.count, 1))
            var offset = 0
            for (k, needle) in needles.enumerated() {
                (bytes + offset).initialize(from: needle.bytes, count: needle.bytes.count)
                start[k] = Int32(offset)
                length[k] = Int32(needle.bytes.count)
                rule[k] = Int32(needle.rule)
                offset += needle.bytes.count
            }
            hasCodes = .allocate(capacity: max(codes.count, 1))
            hasCodes.initialize(from: codes, count: codes.count)
            window = min(needles.map(\.bytes.count).min() ?? 0, 64)
            shift = .allocate(capacity: 65536)
            shift.initialize(repeating: UInt8(max(window - 2, 0)), count: 65536)
            if window >= 4 {
                for needle in needles {
                    // The triple at j ... j + 2 ends the window when the
                    // needle starts window - 3 - j before the window does.
                    for j in 0...(window - 3) {
                        let triple = UInt32(needle.bytes[j]) | UInt32(needle.bytes[j + 1]) << 8 | UInt32(needle.bytes[j + 2]) << 16
                        let entry = Int(RuleMatcher.hash(triple))
                        shift[entry] = min(shift[entry], UInt8(window - 3 - j))
                    }
                }
            }
        }

        deinit {
            for pointer in [UnsafeMutableRawPointer(filter), UnsafeMutableRawPointer(key), UnsafeMutableRawPointer(first),
                UnsafeMutableRawPointer(end), UnsafeMutableRawPointer(bytes), UnsafeMutableRawPointer(start),
                UnsafeMutableRawPointer(length), UnsafeMutableRawPointer(rule), UnsafeMutableRawPointer(hasCodes),
                UnsafeMutableRawPointer(shift)]
            {
                pointer.deallocate()
            }
        }
    }

    private let tables: Tables
    /// Needles under four bytes, as (bytes, rule).
    private var shortNeedles: [(bytes: [UInt8], rule: Int)] = []
    private var hasCodes: [Bool] = []
    private var codeRules: [CodeRule] = []
    private var sqliteCodes: [Int32] = []
    private var ruleCount = 0

    init(_ rules: [ClassificationRule]) {
        ruleCount = rules.count
        var long: [(bytes: [UInt8], rule: Int)] = []
        for (index, rule) in rules.enumerated() {
            let coded = rule.exitCode != nil || !rule.sqlitePrimaryCodes.isEmpty
            hasCodes.append(coded)
            for substring in rule.substrings {
                let bytes = Array(substring.lowercased().utf8)
                if bytes.count >= 4 { long.append((bytes, index)) } else { shortNeedles.append((bytes, index)) }
            }
            if coded {
                let first = sqliteCodes.count
                sqliteCodes += rule.sqlitePrimaryCodes
                codeRules.append(CodeRule(
                    index: index, needsSubstring: !rule.substrings.isEmpty, exitCode: rule.exitCode,
                    sqliteCodes: first..<sqliteCodes.count))
            }
        }
        tables = Tables(needles: long, hasCodes: hasCodes)
    }

    private static func prefix(_ bytes: [UInt8]) -> UInt32 {
        UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
    }

    /// 16 bits of a multiplicative hash: the filter's bit, and the table's
    /// first slot.
    @inline(__always)
    fileprivate static func hash(_ word: UInt32) -> UInt32 {
        (word &* 0x9E37_79B1) >> 16
    }

    /// The index of the first rule that matches. A rule with several kinds
    /// of condition needs all of them; one with none never matches.
    func firstMatch(lowercasedMessage message: UnsafeRawBufferPointer, exitCode: Int32?, sqliteCode: Int32?) -> Int? {
        let haveCode = exitCode != nil || sqliteCode != nil
        // Coded rules whose substring matched, marked only when a code came
        // with the message (without one they cannot match).
        return withUnsafeTemporaryAllocation(of: Bool.self, capacity: haveCode ? ruleCount : 0) { marked in
            if haveCode { marked.initialize(repeating: false) }
            var best = scanLong(message, haveCode: haveCode, marked: marked.baseAddress)
            for needle in shortNeedles where needle.rule < best || (haveCode && hasCodes[needle.rule]) {
                guard needle.bytes.withUnsafeBytes({ Self.contains(message, $0) }) else { continue }
                if hasCodes[needle.rule] {
                    if haveCode { marked[needle.rule] = true }
                } else {
                    best = min(best, needle.rule)
                }
            }
            if haveCode {
                for rule in codeRules {
                    guard rule.index < best else { break }
                    if rule.needsSubstring && !marked[rule.index] { continue }
                    if let code = rule.exitCode, exitCode != code { continue }
                    if !rule.sqliteCodes.isEmpty {
                        guard let code = sqliteCode, sqliteCodes[rule.sqliteCodes].contains(code & 0xff) else { continue }
                    }
                    return rule.index
                }
            }
            return best == Int.max ? nil : best
        }
    }

    /// The lowest substring-only rule whose 4+-byte substring is in the
    /// message (Int.max: none); coded rules found are marked.
    private func scanLong(_ message: UnsafeRawBufferPointer, haveCode: Bool, marked: UnsafeMutablePointer<Bool>?) -> Int {
        let t = tables
        let window = t.window
        guard window >= 4, message.count >= window, let base = message.baseAddress else { return .max }
        let filter = t.filter
        let shift = t.shift
        var best = Int.max
        // The window is message[windowEnd - window + 1 ... windowEnd].
        var windowEnd = window - 1
        while windowEnd < message.count {
            // The four bytes ending the window, less the first: its last three.
            let triple = base.loadUnaligned(fromByteOffset: windowEnd - 3, as: UInt32.self).littleEndian >> 8
            let jump = Int(shift[Int(truncatingIfNeeded: Self.hash(triple))])
            if jump != 0 {
                windowEnd &+= jump
                continue
            }
            let position = windowEnd - window + 1
            windowEnd &+= 1
            let word = base.loadUnaligned(fromByteOffset: position, as: UInt32.self).littleEndian
            let bit = Int(truncatingIfNeeded: Self.hash(word))
            guard filter[bit >> 6] & (1 << UInt64(truncatingIfNeeded: bit & 63)) != 0 else { continue }
            var slot = bit & t.mask
            while t.first[slot] != t.end[slot] {
                if t.key[slot] == word {
                    var k = Int(t.first[slot])
                    let stop = Int(t.end[slot])
                    while k < stop {
                        let rule = Int(t.rule[k])
                        if rule >= best && !haveCode { break }
                        let length = Int(t.length[k])
                        let needle = t.bytes + Int(t.start[k])
                        // Bytes 4 to 7 compared as a word first: most
                        // candidates differ there, without a call.
                        if position + length <= message.count,
                            length < 8
                                ? memcmp(base + position + 4, needle + 4, length - 4) == 0
                                : base.loadUnaligned(fromByteOffset: position + 4, as: UInt32.self)
                                    == UnsafeRawPointer(needle + 4).loadUnaligned(as: UInt32.self)
                                    && (length == 8 || memcmp(base + position + 8, needle + 8, length - 8) == 0)
                        {
                            if t.hasCodes[rule] {
                                marked?[rule] = true
                            } else if rule < best {
                                best = rule
                            }
                        }
                        k += 1
                    }
                    break
                }
                slot = (slot + 1) & t.mask
            }
            // Nothing can come before the first rule (seed 003's, the
            // commonest message).
            if best == 0 && !haveCode { return 0 }
        }
        return best
    }

    /// memchr for the first byte, memcmp for the rest (memmem is a GNU
    /// extension Swift's Glibc module does not show).
    private static func contains(_ hay: UnsafeRawBufferPointer, _ needle: UnsafeRawBufferPointer) -> Bool {
        guard let pin = needle.baseAddress, !needle.isEmpty else { return true }
        guard hay.count >= needle.count, let base = hay.baseAddress else { return false }
        let first = Int32(needle[0])
        var start = 0
        while start <= hay.count - needle.count {
            guard let found = memchr(base + start, first, hay.count - needle.count - start + 1) else { return false }
            if memcmp(found, pin, needle.count) == 0 { return true }
            start = base.distance(to: UnsafeRawPointer(found)) + 1
        }
        return false
    }
}
