/// A rule's answer made once: its remedy template, its id, and the answer
/// it gives when no image is named and the message gives no delay.
/// Matching is `RuleMatcher`'s.
struct PreparedRule: Sendable {
    private let template: RemedyTemplate
    /// With no image named and the rule's own retry-after.
    let plainAnswer: Classification

    init(_ rule: ClassificationRule, id: String) {
        template = RemedyTemplate(rule.remedy)
        plainAnswer = Classification(
            category: rule.category, permanent: rule.permanent, remedy: template.filled(image: nil), rule: id,
            retryAfterSeconds: rule.permanent ? nil : rule.retryAfterSeconds)
    }

    /// The remedy has a slot for the image.
    var namesImage: Bool { template.namesImage }

    /// Reads a delay from the message: only a transient rule's answer has one.
    var readsRetryAfter: Bool { !plainAnswer.permanent }

    /// The answer, naming `image` and with the message's own delay when it
    /// gave one.
    func answer(naming image: String?, messageRetryAfter: Double?) -> Classification {
        var answer = plainAnswer
        if let image, !image.isEmpty, namesImage { answer.remedy = template.filled(image: image) }
        if let messageRetryAfter, readsRetryAfter { answer.retryAfterSeconds = messageRetryAfter }
        return answer
    }
}
