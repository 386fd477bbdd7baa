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
            let table = context.classifyTable
            let match = table.classifier.match(
                message: request.message, exitCode: request.exitCode, sqliteCode: request.sqliteCode)
            if let index = match.ruleIndex, match.image == nil {
                reply.append(encoded: table.encodedAnswers[index])
            } else {
                ClassifyResponse(classification: table.classifier.classification(for: match)).encode(into: reply)
            }
            return nil
        })
    }
}

/// A classifier with each rule's ClassifyResponse, when no image is named,
/// encoded once: most answers are one of these, copied as they are. One
/// object, replaced whole on reload, so a call takes one reference.
final class ClassifyTable {
    let classifier: ErrorClassifier
    let encodedAnswers: [[UInt8]]

    init(_ classifier: ErrorClassifier) {
        self.classifier = classifier
        encodedAnswers = classifier.answersNamingNoImage.map { ClassifyResponse(classification: $0).wireBytes() }
    }
}
