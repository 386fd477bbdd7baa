/// A rule's answer made once: its remedy split at `{image}`, its id, and
/// the answer it gives when no image is named. Matching is `RuleMatcher`'s.
struct PreparedRule: Sendable {
    private let remedyParts: [String]
    private let answer: Classification

    init(_ rule: ClassificationRule, id: String) {
        remedyParts = rule.remedy.components(separatedByBytesOf: "{image}")
        let remedy = remedyParts.count > 1 ? remedyParts.joined(separator: "<image>") : rule.remedy
        answer = Classification(category: rule.category, permanent: rule.permanent, remedy: remedy, rule: id)
    }

    /// The remedy has `{image}` to fill with the image the message names.
    var fillsImage: Bool { remedyParts.count > 1 }

    /// The answer; `{image}` in the remedy becomes `image`, or "<image>".
    func answer(naming image: String?) -> Classification {
        guard let image, fillsImage else { return answer }
        var named = answer
        named.remedy = remedyParts.joined(separator: image)
        return named
    }
}
