import Foundation

/// Times and sizes as an operator reads them in a table.
enum HumanText {
    static var nowUnixMilliseconds: Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }

    /// "45s", "12m30s", "3h5m", "2d4h": the two largest units, whole.
    static func span(seconds: Double) -> String {
        var rest = Int(max(0, seconds).rounded())
        if rest == 0 { return "0s" }
        var parts: [String] = []
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            parts.append("\(rest / size)\(unit)")
            rest %= size
            if parts.count == 2 { break }
        }
        return parts.joined()
    }

    /// Seconds from now until `unixMilliseconds`; negative when it has passed.
    static func secondsUntil(unixMilliseconds: Int64) -> Double {
        Double(unixMilliseconds - nowUnixMilliseconds) / 1000
    }

    /// "512 B", "3.4 MiB", "1.2 GiB".
    static func bytes(_ count: UInt64) -> String {
        var value = Double(count)
        for unit in ["B", "KiB", "MiB", "GiB", "TiB"] {
            if value < 1024 || unit == "TiB" {
                return unit == "B" ? "\(count) B" : "\(String(format: "%.1f", value)) \(unit)"
            }
            value /= 1024
        }
        return "\(count) B"
    }

    /// One decimal: "3.2".
    static func tenths(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}
