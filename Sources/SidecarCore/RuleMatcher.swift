#if canImport(Glibc)
import Glibc
#endif

/// The conditions of every rule, in matching order, laid out flat for one
/// pass over the message whatever the number of rules.
///
/// Substrings of four bytes or more are found by their first four bytes: a
/// 64 Ki-bit filter, indexed by a hash of those four bytes, says whether
/// any substring may start at a position; only then is the table of
/// prefixes probed and the candidates compared. A call reads the message
/// once, a word load, a multiply and a bit test per byte, instead of one
/// `memchr` pass per substring (issue 13 took the rules from 13 to 80+).
/// Shorter substrings (config rules may have them) are searched one by one.
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

    private var needleBytes: [UInt8] = []
    /// Needle `k` (in prefix order) is `needleBytes[needleStart[k]..<needleStart[k] + needleLength[k]]`.
    private var needleStart: [Int] = []
    private var needleLength: [Int] = []
    private var needleRule: [Int] = []
    /// The table of 4-byte prefixes: open addressing, `tableRange[slot]` is
    /// the needles with prefix `tableKey[slot]` (empty range: free slot).
    private var tableKey: [UInt32] = []
    private var tableRange: [Range<Int>] = []
    private var tableMask = 0
    private var filter = [UInt64](repeating: 0, count: 1024)
    /// Needles under four bytes, as (start, length, rule).
    private var shortNeedles: [(start: Int, length: Int, rule: Int)] = []
    /// By rule: it also needs an exit or SQLite code, so a substring match
    /// only marks it.
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
                if bytes.count >= 4 {
                    long.append((bytes, index))
                } else {
                    shortNeedles.append((needleBytes.count, bytes.count, index))
                    needleBytes += bytes
                }
            }
            if coded {
                let first = sqliteCodes.count
                sqliteCodes += rule.sqlitePrimaryCodes
                codeRules.append(CodeRule(
                    index: index, needsSubstring: !rule.substrings.isEmpty, exitCode: rule.exitCode,
                    sqliteCodes: first..<sqliteCodes.count))
            }
        }
        // Sorted by prefix, then rule: a prefix's candidates are one range,
        // lowest rule first.
        long.sort { (Self.prefix($0.bytes), $0.rule) < (Self.prefix($1.bytes), $1.rule) }
        var prefixes: [(key: UInt32, range: Range<Int>)] = []
        for (k, needle) in long.enumerated() {
            needleStart.append(needleBytes.count)
            needleLength.append(needle.bytes.count)
            needleRule.append(needle.rule)
            needleBytes += needle.bytes
            let key = Self.prefix(needle.bytes)
            if let last = prefixes.last, last.key == key {
                prefixes[prefixes.count - 1].range = last.range.lowerBound..<(k + 1)
            } else {
                prefixes.append((key, k..<(k + 1)))
            }
        }
        var size = 16
        while size < prefixes.count * 2 { size *= 2 }
        tableMask = size - 1
        tableKey = Array(repeating: 0, count: size)
        tableRange = Array(repeating: 0..<0, count: size)
        for (key, range) in prefixes {
            var slot = Int(Self.hash(key)) & tableMask
            while !tableRange[slot].isEmpty { slot = (slot + 1) & tableMask }
            tableKey[slot] = key
            tableRange[slot] = range
            let bit = Int(Self.hash(key))
            filter[bit >> 6] |= 1 << UInt64(bit & 63)
        }
    }

    private static func prefix(_ bytes: [UInt8]) -> UInt32 {
        UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
    }

    /// 16 bits of a multiplicative hash: the filter's bit, and the table's
    /// first slot.
    @inline(__always)
    private static func hash(_ word: UInt32) -> UInt32 {
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
            var best = Int.max
            needleBytes.withUnsafeBytes { needles in
                scanLong(message, needles, haveCode: haveCode, marked: marked, best: &best)
                for needle in shortNeedles where needle.rule < best || (haveCode && hasCodes[needle.rule]) {
                    let bytes = UnsafeRawBufferPointer(rebasing: needles[needle.start..<(needle.start + needle.length)])
                    guard Self.contains(message, bytes) else { continue }
                    if hasCodes[needle.rule] {
                        if haveCode { marked[needle.rule] = true }
                    } else {
                        best = min(best, needle.rule)
                    }
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

    private func scanLong(
        _ message: UnsafeRawBufferPointer, _ needles: UnsafeRawBufferPointer, haveCode: Bool,
        marked: UnsafeMutableBufferPointer<Bool>, best: inout Int
    ) {
        guard message.count >= 4, let base = message.baseAddress, let needleBase = needles.baseAddress else { return }
        filter.withUnsafeBufferPointer { filter in
            var position = 0
            let last = message.count - 4
            while position <= last {
                let word = base.loadUnaligned(fromByteOffset: position, as: UInt32.self)
                let bit = Int(Self.hash(word))
                if filter[bit >> 6] & (1 << UInt64(bit & 63)) != 0 {
                    var slot = bit & tableMask
                    while !tableRange[slot].isEmpty {
                        if tableKey[slot] == word {
                            for k in tableRange[slot] {
                                let rule = needleRule[k]
                                if rule >= best && !haveCode { break }
                                let length = needleLength[k]
                                guard position + length <= message.count,
                                    memcmp(base + position + 4, needleBase + needleStart[k] + 4, length - 4) == 0
                                else { continue }
                                if hasCodes[rule] {
                                    if haveCode { marked[rule] = true }
                                } else if rule < best {
                                    best = rule
                                }
                            }
                            break
                        }
                        slot = (slot + 1) & tableMask
                    }
                }
                position += 1
            }
        }
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
