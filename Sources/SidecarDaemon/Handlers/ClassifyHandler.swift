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
            context.classifyTable.answer(request, into: reply)
            return nil
        })
    }
}

/// A classifier with each rule's ClassifyResponse, when no image is named,
/// encoded once, all in one byte array: most answers are one of these,
/// copied as they are. One object, replaced whole on reload.
final class ClassifyTable {
    let classifier: ErrorClassifier
    private let encodedAnswers: [UInt8]
    /// Rule `i`'s answer is `encodedAnswers[answerBounds[i]..<answerBounds[i + 1]]`.
    private let answerBounds: [Int]

    init(_ classifier: ErrorClassifier) {
        self.classifier = classifier
        var bytes: [UInt8] = []
        var bounds = [0]
        for answer in classifier.answersNamingNoImage {
            bytes += ClassifyResponse(classification: answer).wireBytes()
            bounds.append(bytes.count)
        }
        encodedAnswers = bytes
        answerBounds = bounds
    }

    func answer(_ request: ClassifyRequestView, into reply: ProtobufWriter) {
        let match = classifier.match(message: request.message, exitCode: request.exitCode, sqliteCode: request.sqliteCode)
        guard let index = match.ruleIndex, match.image == nil else {
            ClassifyResponse(classification: classifier.classification(for: match)).encode(into: reply)
            return
        }
        encodedAnswers.withUnsafeBytes { all in
            reply.append(encoded: UnsafeRawBufferPointer(rebasing: all[answerBounds[index]..<answerBounds[index + 1]]))
        }
    }
}
