import SidecarProtoC

public struct WatchRequest: WireMessage, Equatable {
    /// Topic prefixes; empty means all topics.
    public var topics: [String]

    public init(topics: [String] = []) {
        self.topics = topics
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "WatchRequest",
            unpack: { sidecar__v1__watch_request__unpack(nil, $0, $1) },
            free: { sidecar__v1__watch_request__free_unpacked($0, nil) }
        ) { c in WatchRequest(topics: ProtobufCField.strings(c.topics, count: c.n_topics)) }
    }

    package func wireBytes() -> [UInt8] {
        let arena = PackArena()
        var c = Sidecar__V1__WatchRequest()
        sidecar__v1__watch_request__init(&c)
        c.n_topics = topics.count
        c.topics = arena.strings(topics)
        return withExtendedLifetime(arena) {
            ProtobufCField.pack(
                &c, size: { sidecar__v1__watch_request__get_packed_size($0) },
                pack: { sidecar__v1__watch_request__pack($0, $1) })
        }
    }
}

/// Something that happened in the daemon, as Watch streams it.
public struct SidecarEvent: WireMessage, Equatable {
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

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "Event",
            unpack: { sidecar__v1__event__unpack(nil, $0, $1) },
            free: { sidecar__v1__event__free_unpacked($0, nil) }
        ) { c in
            var attributes: [String: String] = [:]
            for index in 0..<c.n_attributes {
                if let entry = c.attributes[index] {
                    attributes[ProtobufCField.string(entry.pointee.key)] = ProtobufCField.string(entry.pointee.value)
                }
            }
            return SidecarEvent(
                topic: ProtobufCField.string(c.topic), timeUnixMilliseconds: c.time_unix_ms,
                subject: ProtobufCField.string(c.subject), message: ProtobufCField.string(c.message),
                attributes: attributes)
        }
    }

    package func wireBytes() -> [UInt8] {
        let arena = PackArena()
        var c = Sidecar__V1__Event()
        sidecar__v1__event__init(&c)
        c.topic = arena.string(topic)
        c.time_unix_ms = timeUnixMilliseconds
        c.subject = arena.string(subject)
        c.message = arena.string(message)
        let sorted = attributes.sorted { $0.key < $1.key }
        let entries = arena.array(of: Sidecar__V1__Event__AttributesEntry.self, count: sorted.count)
        let pointers = arena.array(of: UnsafeMutablePointer<Sidecar__V1__Event__AttributesEntry>?.self, count: sorted.count)
        for (index, pair) in sorted.enumerated() {
            sidecar__v1__event__attributes_entry__init(entries + index)
            entries[index].key = arena.cString(pair.key)
            entries[index].value = arena.cString(pair.value)
            pointers[index] = entries + index
        }
        c.n_attributes = sorted.count
        c.attributes = sorted.isEmpty ? nil : pointers
        return withExtendedLifetime(arena) {
            ProtobufCField.pack(
                &c, size: { sidecar__v1__event__get_packed_size($0) },
                pack: { sidecar__v1__event__pack($0, $1) })
        }
    }
}
