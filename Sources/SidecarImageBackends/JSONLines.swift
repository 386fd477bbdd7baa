import Foundation

/// Splits a streamed body into JSON objects, one per line (Docker's build,
/// pull and event streams), however the bytes are cut into chunks.
struct JSONLines {
    private var pending: [UInt8] = []

    /// The complete lines in `chunk` (with what came before), parsed; lines
    /// that are not JSON objects are skipped.
    mutating func feed(_ chunk: UnsafeRawBufferPointer) -> [[String: Any]] {
        pending.append(contentsOf: chunk)
        var objects: [[String: Any]] = []
        var start = 0
        while let end = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if end > start, let object = Self.parse(pending[start..<end]) { objects.append(object) }
            start = end + 1
        }
        pending.removeFirst(start)
        return objects
    }

    /// The last line, if the stream ended without a newline.
    mutating func finish() -> [[String: Any]] {
        defer { pending.removeAll() }
        return Self.parse(pending[...]).map { [$0] } ?? []
    }

    static func parse(_ bytes: ArraySlice<UInt8>) -> [String: Any]? {
        guard !bytes.isEmpty else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }
}
