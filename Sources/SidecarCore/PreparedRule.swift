#if canImport(Glibc)
import Glibc
#endif

/// A rule made ready to match: its substrings as bytes, its remedy split at
/// `{image}`, its id, and the answer it gives when no image is named, all
/// made once. A class, so the loop over the rules moves a reference, not a
/// struct of arrays and strings to retain one by one.
final class PreparedRule: Sendable {
    /// The substrings as bytes, searched with memchr and memcmp:
    /// Character-wise String search costs microseconds per rule, and a
    /// message that matches nothing is tried against every rule.
    private let needles: [[UInt8]]
    private let exitCode: Int32?
    private let sqlitePrimaryCodes: [Int32]
    private let remedyParts: [String]
    private let answer: Classification

    init(_ rule: ClassificationRule, id: String) {
        needles = rule.substrings.map { Array($0.lowercased().utf8) }
        exitCode = rule.exitCode
        sqlitePrimaryCodes = rule.sqlitePrimaryCodes
        remedyParts = rule.remedy.components(separatedByBytesOf: "{image}")
        let remedy = remedyParts.count > 1 ? remedyParts.joined(separator: "<image>") : rule.remedy
        answer = Classification(category: rule.category, permanent: rule.permanent, remedy: remedy, rule: id)
    }

    /// A rule with several conditions needs all of them; one with none never matches.
    func matches(lowercasedMessage: UnsafeRawBufferPointer, exitCode reported: Int32?, sqliteCode: Int32?) -> Bool {
        var matchedSomething = false
        if !needles.isEmpty {
            guard needles.contains(where: { Self.contains(lowercasedMessage, $0) }) else { return false }
            matchedSomething = true
        }
        if let exitCode {
            guard reported == exitCode else { return false }
            matchedSomething = true
        }
        if !sqlitePrimaryCodes.isEmpty {
            guard let code = sqliteCode, sqlitePrimaryCodes.contains(code & 0xff) else { return false }
            matchedSomething = true
        }
        return matchedSomething
    }

    /// The image reference `message` names, looked for only when the
    /// remedy has `{image}` to fill.
    func imageNamed(in message: UnsafeBufferPointer<UInt8>) -> String? {
        remedyParts.count > 1 ? ImageReferenceScanner.firstReference(in: message) : nil
    }

    /// The answer; `{image}` in the remedy becomes `image`, or "<image>".
    func answer(naming image: String?) -> Classification {
        guard let image, remedyParts.count > 1 else { return answer }
        var named = answer
        named.remedy = remedyParts.joined(separator: image)
        return named
    }

    private static func contains(_ hay: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard hay.count >= needle.count, let base = hay.baseAddress else { return false }
        // memchr for the first byte, memcmp for the rest (memmem is a GNU
        // extension Swift's Glibc module does not show).
        return needle.withUnsafeBytes { pin in
            var start = 0
            while start <= hay.count - pin.count {
                guard let found = memchr(base + start, Int32(pin[0]), hay.count - pin.count - start + 1) else {
                    return false
                }
                if memcmp(found, pin.baseAddress!, pin.count) == 0 { return true }
                start = base.distance(to: UnsafeRawPointer(found)) + 1
            }
            return false
        }
    }
}
