#if canImport(Glibc)
import Glibc
#endif

/// The conditions of every rule, in matching order, laid out flat: all
/// substrings in one byte array, all SQLite codes in one array, and ranges
/// into them per rule. Matching a message walks plain memory, with no
/// object to retain per rule or substring.
struct RuleMatcher: Sendable {
    private struct Conditions: Sendable {
        var needles: Range<Int>
        var exitCode: Int32?
        var sqliteCodes: Range<Int>
    }

    private var needleBytes: [UInt8] = []
    /// Needle `k` is `needleBytes[needleBounds[k]..<needleBounds[k + 1]]`.
    private var needleBounds: [Int] = [0]
    /// Primary SQLite codes; an extended code matches its primary (low byte).
    private var sqliteCodes: [Int32] = []
    private var rules: [Conditions] = []

    init(_ rules: [ClassificationRule]) {
        for rule in rules {
            let firstNeedle = needleBounds.count - 1
            for substring in rule.substrings {
                needleBytes += Array(substring.lowercased().utf8)
                needleBounds.append(needleBytes.count)
            }
            let firstCode = sqliteCodes.count
            sqliteCodes += rule.sqlitePrimaryCodes
            self.rules.append(Conditions(
                needles: firstNeedle..<(needleBounds.count - 1), exitCode: rule.exitCode,
                sqliteCodes: firstCode..<sqliteCodes.count))
        }
    }

    /// The index of the first rule that matches. A rule with several
    /// conditions needs all of them; one with none never matches.
    func firstMatch(lowercasedMessage message: UnsafeRawBufferPointer, exitCode: Int32?, sqliteCode: Int32?) -> Int? {
        needleBytes.withUnsafeBytes { needles in
            for index in rules.indices {
                let rule = rules[index]
                var matchedSomething = false
                if !rule.needles.isEmpty {
                    var found = false
                    for needle in rule.needles {
                        let bounds = needleBounds[needle]..<needleBounds[needle + 1]
                        if Self.contains(message, UnsafeRawBufferPointer(rebasing: needles[bounds])) {
                            found = true
                            break
                        }
                    }
                    guard found else { continue }
                    matchedSomething = true
                }
                if let code = rule.exitCode {
                    guard exitCode == code else { continue }
                    matchedSomething = true
                }
                if !rule.sqliteCodes.isEmpty {
                    guard let code = sqliteCode, sqliteCodes[rule.sqliteCodes].contains(code & 0xff) else { continue }
                    matchedSomething = true
                }
                if matchedSomething { return index }
            }
            return nil
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
