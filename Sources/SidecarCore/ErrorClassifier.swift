/// Decides whether a failure is permanent or transient, and what to do about
/// it. Pure: no I/O, no clock; the daemon builds one from the config and
/// rebuilds it on reload.
public struct ErrorClassifier: Sendable {
    public let configRules: [ClassificationRule]

    public init(configRules: [ClassificationRule] = []) {
        self.configRules = configRules
    }

    public func classify(_ report: FailureReport) -> Classification {
        let lowercased = ErrorClassifier.asciiLowercased(report.message)
        for (index, rule) in configRules.enumerated()
        where rule.matches(lowercasedMessage: lowercased, report: report) {
            return classification(from: rule, id: "config:\(index)", message: report.message)
        }
        for rule in BuiltinRules.all where rule.matches(lowercasedMessage: lowercased, report: report) {
            return classification(from: rule, id: "builtin:\(rule.name)", message: report.message)
        }
        return .unknown
    }

    /// Lowercases ASCII letters only: the rules are ASCII, and Unicode case
    /// mapping is far slower than this and not needed to match them.
    static func asciiLowercased(_ text: String) -> [UInt8] {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices where buffer[index] &- 0x41 < 26 { buffer[index] |= 0x20 }
        }
        return bytes
    }

    private func classification(from rule: ClassificationRule, id: String, message: String) -> Classification {
        var remedy = rule.remedy
        if rule.remedyParts.count > 1 {
            let image = ImageReferenceScanner.firstReference(in: message) ?? "<image>"
            remedy = rule.remedyParts.joined(separator: image)
        }
        return Classification(category: rule.category, permanent: rule.permanent, remedy: remedy, rule: id)
    }
}

extension String {
    /// The pieces between occurrences of `separator`, compared as UTF-8
    /// bytes (a Character-wise search costs microseconds).
    func components(separatedByBytesOf separator: String) -> [String] {
        let bytes = Array(utf8)
        let pattern = Array(separator.utf8)
        guard !pattern.isEmpty else { return [self] }
        var parts: [String] = []
        var start = 0
        var index = 0
        while index + pattern.count <= bytes.count {
            if bytes[index..<(index + pattern.count)].elementsEqual(pattern) {
                parts.append(String(decoding: bytes[start..<index], as: UTF8.self))
                index += pattern.count
                start = index
            } else {
                index += 1
            }
        }
        parts.append(String(decoding: bytes[start...], as: UTF8.self))
        return parts
    }
}
