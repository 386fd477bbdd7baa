import SidecarCore
import SidecarWire

/// Classify is matched in place: the request's message bytes go to the
/// classifier without a String, and a rule's answer that names no image is
/// copied already encoded. Tests hold the answers equal to
/// `ErrorClassifier.classify` encoded as a ClassifyResponse.
enum ClassifyHandler {
    static func spec(context: DaemonContext) -> MethodSpec {
        MethodSpec(name: "Classify", requiresAdmin: false, handler: .answerNow { _, payload, reply in
            let request: ClassifyRequestView
            do {
                request = try ClassifyRequestView(wireBytes: payload)
            } catch {
                return StatusMapping.status(for: error)
            }
            guard !request.isEmpty else {
                return SidecarError(.invalidArgument, "nothing to classify: give a message, an exit code or a SQLite code")
            }
            let match = context.classifier.match(
                message: request.message, exitCode: request.exitCode, sqliteCode: request.sqliteCode)
            if let index = match.ruleIndex, match.image == nil {
                reply.append(encoded: context.classifyAnswers[index])
            } else {
                ClassifyResponse(classification: context.classifier.classification(for: match)).encode(into: reply)
            }
            return nil
        })
    }

    static func encodedAnswers(_ classifier: ErrorClassifier) -> [[UInt8]] {
        classifier.answersNamingNoImage.map { ClassifyResponse(classification: $0).wireBytes() }
    }
}
