import SidecarCore
import SidecarWire

enum ClassifyHandler {
    static func spec(context: DaemonContext) -> MethodSpec {
        .unary("Classify") { (_, request: ClassifyRequest) in
            guard !request.report.isEmpty else {
                throw SidecarError(.invalidArgument, "nothing to classify: give a message, an exit code or a SQLite code")
            }
            return ClassifyResponse(classification: context.classifier.classify(request.report))
        }
    }
}
