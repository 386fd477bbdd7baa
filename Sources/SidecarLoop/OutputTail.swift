/// The last `limit` bytes of a child's output: enough for an error message
/// and the log, bounded however much a build prints.
public struct OutputTail: Sendable {
    public let limit: Int
    private var bytes: [UInt8] = []
    /// Bytes dropped from the front so far.
    public private(set) var droppedBytes = 0

    public init(limit: Int) {
        self.limit = limit
    }

    public mutating func append(_ chunk: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: chunk)
        // Trimmed in batches so a chatty child costs amortised O(1) per byte.
        if bytes.count > 2 * limit { trim() }
    }

    public var text: String {
        var copy = self
        copy.trim()
        return String(decoding: copy.bytes, as: UTF8.self)
    }

    private mutating func trim() {
        guard bytes.count > limit else { return }
        let excess = bytes.count - limit
        droppedBytes += excess
        bytes.removeFirst(excess)
    }
}
