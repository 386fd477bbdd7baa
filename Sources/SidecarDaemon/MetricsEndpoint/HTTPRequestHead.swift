/// The request line and the headers that matter of one HTTP/1.x request,
/// as the metrics endpoint reads them: enough for Prometheus, curl and
/// probes, no more. Pure.
struct HTTPRequestHead: Equatable {
    var method: String
    /// The target without its query.
    var path: String
    /// False for HTTP/1.0 without keep-alive, or "Connection: close".
    var keepAlive: Bool
    /// A body was announced (Content-Length > 0, or Transfer-Encoding).
    var hasBody: Bool

    static let maxBytes = 8192

    enum Failure: Error, Equatable {
        case malformed(String)
        case tooLarge
    }

    /// The head at the start of `bytes` and how many bytes it took; nil
    /// while its blank line has not arrived.
    static func parse(_ bytes: ArraySlice<UInt8>) throws(Failure) -> (head: HTTPRequestHead, length: Int)? {
        guard let end = endOfHead(bytes) else {
            if bytes.count > maxBytes { throw .tooLarge }
            return nil
        }
        if end > maxBytes { throw .tooLarge }
        let text = String(decoding: bytes.prefix(end), as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        let requestLine = lines.popFirst() ?? ""
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[1].hasPrefix("/") || parts[1] == "*",
            parts[2] == "HTTP/1.1" || parts[2] == "HTTP/1.0"
        else { throw .malformed("bad request line") }
        var head = HTTPRequestHead(
            method: String(parts[0]), path: String(parts[1].split(separator: "?", maxSplits: 1).first ?? ""),
            keepAlive: parts[2] == "HTTP/1.1", hasBody: false)
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw .malformed("a header without a colon") }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces.lowercased()
            switch name {
            case "connection":
                let options = value.split(separator: ",").map(\.trimmingSpaces)
                if options.contains("close") { head.keepAlive = false }
                if options.contains("keep-alive") { head.keepAlive = true }
            case "content-length":
                guard let length = Int(value), length >= 0 else { throw .malformed("a bad Content-Length") }
                if length > 0 { head.hasBody = true }
            case "transfer-encoding":
                head.hasBody = true
            default:
                break
            }
        }
        return (head, end + 4)
    }

    /// Where "\r\n\r\n" begins.
    private static func endOfHead(_ bytes: ArraySlice<UInt8>) -> Int? {
        var index = bytes.startIndex
        while index + 3 < bytes.endIndex {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 {
                return index - bytes.startIndex
            }
            index += 1
        }
        return nil
    }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
