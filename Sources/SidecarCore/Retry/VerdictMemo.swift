/// The classifier, and the verdicts of the failures it classified lately:
/// a runner retrying reports the same error again and again, and matching
/// it against every rule was most of a grant's work. Cleared whenever the
/// classifier changes (a reload).
struct VerdictMemo: Sendable {
    var classifier: ErrorClassifier {
        didSet { verdicts.removeAll() }
    }
    private var verdicts: [FailureReport: Classification] = [:]

    /// How many verdicts are kept; past it the memo starts over.
    static let limit = 256
    /// Longer messages are classified every time, so the memo stays small.
    static let longestMessageBytes = 1024

    init(classifier: ErrorClassifier) {
        self.classifier = classifier
    }

    mutating func classify(_ report: FailureReport) -> Classification {
        guard report.message.utf8.count <= Self.longestMessageBytes else { return classifier.classify(report) }
        if let known = verdicts[report] { return known }
        let verdict = classifier.classify(report)
        if verdicts.count >= Self.limit { verdicts.removeAll(keepingCapacity: true) }
        verdicts[report] = verdict
        return verdict
    }
}
