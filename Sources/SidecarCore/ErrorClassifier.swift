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
        text.utf8.map { $0 >= 0x41 && $0 <= 0x5a ? $0 | 0x20 : $0 }
    }

    private func classification(from rule: ClassificationRule, id: String, message: String) -> Classification {
        var remedy = rule.remedy
        if remedy.contains("{image}") {
            remedy = remedy.replacingAll("{image}", with: ImageReferenceScanner.firstReference(in: message) ?? "<image>")
        }
        return Classification(category: rule.category, permanent: rule.permanent, remedy: remedy, rule: id)
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

extension Substring {
    func range(of target: String) -> Range<Substring.Index>? {
        guard !target.isEmpty, count >= target.count else { return nil }
        var start = startIndex
        while start < endIndex {
            if self[start...].hasPrefix(target) {
                return start..<index(start, offsetBy: target.count)
            }
            start = index(after: start)
        }
        return nil
    }
}
