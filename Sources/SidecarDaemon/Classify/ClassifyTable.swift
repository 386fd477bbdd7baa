import SidecarCore
import SidecarWire

/// Classify, matched in place: the request's message bytes go to the
/// classifier without a String, and a rule's plain answer (no image to
/// name, no delay read from the message) is copied already encoded: each
/// rule's ClassifyResponse is encoded once, all in one byte array; recent
/// messages' matches are remembered (`MatchMemo`). One object, replaced
/// whole on reload. Tests hold the answers equal to
/// `ErrorClassifier.classify` encoded as a ClassifyResponse.
final class ClassifyTable {
    let classifier: ErrorClassifier
    private let encodedAnswers: [UInt8]
    /// Rule `i`'s answer is `encodedAnswers[answerBounds[i]..<answerBounds[i + 1]]`.
    private let answerBounds: [Int]
    private var memo = MatchMemo()

    init(_ classifier: ErrorClassifier) {
        self.classifier = classifier
        var bytes: [UInt8] = []
        var bounds = [0]
        for answer in classifier.plainAnswers {
            bytes += ClassifyResponse(classification: answer).wireBytes()
            bounds.append(bytes.count)
        }
        encodedAnswers = bytes
        answerBounds = bounds
    }

    /// Reads a ClassifyRequest's bytes and writes its ClassifyResponse.
    func answer(_ payload: UnsafeRawBufferPointer, into reply: ProtobufWriter) -> SidecarError? {
        let request: ClassifyRequestView
        do {
            request = try ClassifyRequestView(wireBytes: payload)
        } catch {
            return StatusMapping.status(for: error)
        }
        guard !request.isEmpty else {
            return SidecarError(.invalidArgument, "nothing to classify: give a message, an exit code or a SQLite code")
        }
        answer(request, into: reply)
        return nil
    }

    private func answer(_ request: ClassifyRequestView, into reply: ProtobufWriter) {
        let match = memo.match(message: request.message, exitCode: request.exitCode, sqliteCode: request.sqliteCode) {
            classifier.match(message: request.message, exitCode: request.exitCode, sqliteCode: request.sqliteCode)
        }
        guard let index = match.ruleIndex, match.messageRetryAfter == nil,
            request.image.isEmpty || !classifier.ruleNamesImage(index)
        else {
            let image = request.image.isEmpty ? nil : String(decoding: request.image, as: UTF8.self)
            ClassifyResponse(classification: classifier.classification(for: match, image: image)).encode(into: reply)
            return
        }
        encodedAnswers.withUnsafeBytes { all in
            reply.append(encoded: UnsafeRawBufferPointer(rebasing: all[answerBounds[index]..<answerBounds[index + 1]]))
        }
    }
}
