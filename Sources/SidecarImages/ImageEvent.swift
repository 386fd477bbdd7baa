/// Something Watch subscribers and the log should hear about.
public struct ImageEvent: Sendable, Equatable {
    /// "image.job.started", "image.job.finished", "image.job.failed",
    /// "image.removed", "image.pruned".
    public var topic: String
    /// The image's name.
    public var subject: String
    public var message: String
    public var attributes: [String: String]

    public init(topic: String, subject: String, message: String, attributes: [String: String] = [:]) {
        self.topic = topic
        self.subject = subject
        self.message = message
        self.attributes = attributes
    }
}
