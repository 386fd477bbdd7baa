import SidecarCore
import SidecarWire

/// Classify, matched in place: the request's message bytes go to the
/// classifier without a String, and a rule's answer that names no image is
/// copied already encoded: each rule's ClassifyResponse, when no image is
/// named, is encoded once, all in one byte array. One object, replaced whole
/// on reload. Tests hold the answers equal to `ErrorClassifier.classify`
/// encoded as a ClassifyResponse.
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
