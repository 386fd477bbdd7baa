import SidecarProtoC

public struct WatchRequest: Equatable, Sendable {
    /// Topic prefixes; empty means all topics.
    public var topics: [String]

    public init(topics: [String] = []) {
        self.topics = topics
    }
}

extension WatchRequest: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__WatchRequest>) { sidecar__v1__watch_request__init(c) }
    package init(reading c: Sidecar__V1__WatchRequest) { self.init(topics: ProtobufCField.strings(c.topics, count: c.n_topics)) }

    package func fill(_ c: inout Sidecar__V1__WatchRequest, arena: PackArena) {
        c.n_topics = topics.count
        c.topics = arena.strings(topics)
    }
}

/// Something that happened in the daemon, as Watch streams it.
public struct SidecarEvent: Equatable, Sendable {
    public var topic: String
    public var timeUnixMilliseconds: Int64
    public var subject: String
    public var message: String
    public var attributes: [String: String]

    public init(
        topic: String, timeUnixMilliseconds: Int64, subject: String, message: String,
        attributes: [String: String] = [:]
    ) {
        self.topic = topic
        self.timeUnixMilliseconds = timeUnixMilliseconds
        self.subject = subject
        self.message = message
        self.attributes = attributes
    }
}

extension SidecarEvent: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__Event>) { sidecar__v1__event__init(c) }

    package init(reading c: Sidecar__V1__Event) {
        var attributes: [String: String] = [:]
        for index in 0..<c.n_attributes {
            if let entry = c.attributes[index] {
                attributes[ProtobufCField.string(entry.pointee.key)] = ProtobufCField.string(entry.pointee.value)
            }
        }
        self.init(
            topic: ProtobufCField.string(c.topic), timeUnixMilliseconds: c.time_unix_ms,
            subject: ProtobufCField.string(c.subject), message: ProtobufCField.string(c.message),
            attributes: attributes)
    }

    package func fill(_ c: inout Sidecar__V1__Event, arena: PackArena) {
        c.topic = arena.string(topic)
        c.time_unix_ms = timeUnixMilliseconds
        c.subject = arena.string(subject)
        c.message = arena.string(message)
        // Sorted, so one event always encodes to the same bytes.
        let sorted = attributes.sorted { $0.key < $1.key }
        c.n_attributes = sorted.count
        c.attributes = arena.messages(count: sorted.count, initialize: sidecar__v1__event__attributes_entry__init) { index, entry in
            entry.key = arena.cString(sorted[index].key)
            entry.value = arena.cString(sorted[index].value)
        }
    }
}
