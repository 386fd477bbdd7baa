/// Durations as operators write them in the config and on the command line:
/// a number followed by a unit, `ms`, `s`, `m`, `h` or `d`, possibly several
/// (`1h30m`). A bare `0` is zero.
public enum DurationText {
    public static func parse(_ text: String) -> Double? {
        let trimmed = text.trimmingWhitespace()
        if trimmed == "0" { return 0 }
        var total = 0.0
        var number = ""
        var unit = ""
        var sawAny = false
        func flush() -> Bool {
            guard let value = Double(number), value >= 0, let scale = unitSeconds(unit) else { return false }
            total += value * scale
            number = ""
            unit = ""
            sawAny = true
            return true
        }
        for ch in trimmed {
            if ch.isNumber || ch == "." {
                if !unit.isEmpty { guard flush() else { return nil } }
                number.append(ch)
            } else if ch.isLetter {
                guard !number.isEmpty else { return nil }
                unit.append(ch)
            } else {
                return nil
            }
        }
        guard !number.isEmpty || sawAny else { return nil }
        if !number.isEmpty { guard flush() else { return nil } }
        return total
    }

    /// The shortest exact text for a number of seconds: "250ms", "10s", "5m", "24h".
    public static func format(_ seconds: Double) -> String {
        if seconds == 0 { return "0s" }
        let ms = (seconds * 1000).rounded()
        if ms.truncatingRemainder(dividingBy: 3_600_000) == 0 { return "\(Int(ms / 3_600_000))h" }
        if ms.truncatingRemainder(dividingBy: 60_000) == 0 { return "\(Int(ms / 60_000))m" }
        if ms.truncatingRemainder(dividingBy: 1000) == 0 { return "\(Int(ms / 1000))s" }
        return "\(Int(ms))ms"
    }

    private static func unitSeconds(_ unit: String) -> Double? {
        switch unit {
        case "ms": 0.001
        case "s": 1
        case "m": 60
        case "h": 3600
        case "d": 86400
        default: nil
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
