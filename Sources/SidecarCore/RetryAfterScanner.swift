/// Reads the delay a message itself asks for, in the forms the tools print:
/// the HTTP header (`Retry-After: 30`), a registry's rate-limit answer
/// (GHCR: `toomanyrequests: retry-after: 333.011µs, allowed: 44000/minute`),
/// prose ("retry after 30s", "try
/// again in 1m30s", "try again after 2 minutes", "retry in 500ms") and
/// Kubernetes' Status details (`"retryAfterSeconds":30`). A bare number is
/// seconds; a unit may follow as a Go duration (`1m30s`, `1.5s`, `250ms`)
/// or a word (`30 seconds`, `2 min`). An HTTP-date Retry-After is not read.
///
/// Runs on lowercased ASCII bytes, only for a message a transient rule
/// matched, so the common call (a permanent verdict, or no hint) pays
/// nothing or one pass per marker.
enum RetryAfterScanner {
    /// The longest delay believed: a message asking for more is capped.
    static let maxSeconds: Double = 86_400

    /// Markers after which a delay may follow.
    private static let markers: [[UInt8]] = [
        "retry-after", "retry after", "retryafterseconds", "retry_after_seconds", "try again in", "try again after",
        "retry in",
    ].map { Array($0.utf8) }

    static func seconds(inLowercased message: UnsafeRawBufferPointer) -> Double? {
        let bytes = message.bindMemory(to: UInt8.self)
        for marker in markers {
            var from = 0
            while let at = find(marker, in: bytes, from: from) {
                if let value = delay(in: bytes, from: at + marker.count) { return value }
                from = at + 1
            }
        }
        return nil
    }

    private static func find(_ needle: [UInt8], in hay: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard needle.count <= hay.count else { return nil }
        var index = start
        while index + needle.count <= hay.count {
            if hay[index] == needle[0] {
                var same = true
                for k in 1..<needle.count where hay[index + k] != needle[k] {
                    same = false
                    break
                }
                if same { return index }
            }
            index += 1
        }
        return nil
    }

    /// After a marker: separators (`:`, `=`, quotes, spaces), then a
    /// duration.
    private static func delay(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Double? {
        var index = start
        while index < bytes.count, [UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: "="), UInt8(ascii: "\""),
            UInt8(ascii: "'"), UInt8(ascii: "\t")].contains(bytes[index])
        {
            index += 1
        }
        guard index < bytes.count, isDigit(bytes[index]) else { return nil }
        var total = 0.0
        var sawUnit = false
        // A Go duration is numbers each followed by a unit ("1m30s"); prose
        // has one number and maybe a word after a space ("30 seconds").
        while index < bytes.count, isDigit(bytes[index]) {
            let (number, afterNumber) = readNumber(bytes, index)
            index = afterNumber
            var unitStart = index
            if unitStart < bytes.count, bytes[unitStart] == UInt8(ascii: " "), !sawUnit { unitStart += 1 }
            var unitEnd = unitStart
            while unitEnd < bytes.count {
                if isLetter(bytes[unitEnd]) {
                    unitEnd += 1
                } else if unitEnd + 1 < bytes.count, isMicroSign(bytes[unitEnd], bytes[unitEnd + 1]) {
                    unitEnd += 2
                } else {
                    break
                }
            }
            let unit = String(decoding: UnsafeBufferPointer(rebasing: bytes[unitStart..<unitEnd]), as: UTF8.self)
            guard let scale = scale(of: unit) else {
                // No unit we know: a bare number is seconds, once.
                if sawUnit { break }
                total = number
                break
            }
            total += number * scale
            sawUnit = true
            index = unitEnd
            // Only a Go duration goes on without a space ("1m30s").
            if unitStart != afterNumber { break }
        }
        guard total > 0, total.isFinite else { return nil }
        return min(total, maxSeconds)
    }

    private static func readNumber(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int) -> (Double, Int) {
        var index = start
        var sawPoint = false
        while index < bytes.count, isDigit(bytes[index]) || (!sawPoint && bytes[index] == UInt8(ascii: ".")
            && index + 1 < bytes.count && isDigit(bytes[index + 1]))
        {
            if bytes[index] == UInt8(ascii: ".") { sawPoint = true }
            index += 1
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        return (Double(text) ?? 0, index)
    }

    private static func scale(of unit: String) -> Double? {
        switch unit {
        case "ns", "nanosecond", "nanoseconds": return 1e-9
        case "us", "µs", "μs", "microsecond", "microseconds": return 1e-6
        case "ms", "msec", "millisecond", "milliseconds": return 0.001
        case "s", "sec", "secs", "second", "seconds": return 1
        case "m", "min", "mins", "minute", "minutes": return 60
        case "h", "hr", "hour", "hours": return 3600
        default: return nil
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }
    private static func isLetter(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "a") < 26 }
    /// U+00B5 (micro sign) or U+03BC (Greek mu), as Go prints "µs".
    private static func isMicroSign(_ first: UInt8, _ second: UInt8) -> Bool {
        (first == 0xC2 && second == 0xB5) || (first == 0xCE && second == 0xBC)
    }
}
