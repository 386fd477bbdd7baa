import SidecarLoop

/// What the metrics endpoint answers one request with.
struct HTTPResponse {
    var status: String
    var contentType = "text/plain; charset=utf-8"
    var body: String
    var extraHeaders: [String] = []

    func bytes(keepAlive: Bool, includeBody: Bool) -> [UInt8] {
        let body = Array(body.utf8)
        var head = "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
        for header in extraHeaders { head += header + "\r\n" }
        if !keepAlive { head += "Connection: close\r\n" }
        head += "\r\n"
        return Array(head.utf8) + (includeBody ? body : [])
    }
}

/// One HTTP/1.1 connection to the metrics endpoint: requests answered in
/// order, kept alive unless the client or an error says otherwise.
final class HTTPConnection {
    var onClosed: (() -> Void)?
    private let stream: LoopStream
    private let loop: EventLoop
    private let answer: (HTTPRequestHead) -> HTTPResponse
    private var buffer: [UInt8] = []
    private var lastActivity = EventLoop.monotonicNanoseconds()
    private var closing = false

    init(stream: LoopStream, loop: EventLoop, answer: @escaping (HTTPRequestHead) -> HTTPResponse) {
        self.stream = stream
        self.loop = loop
        self.answer = answer
    }

    func start() {
        stream.onRead = { [unowned self] bytes in received(bytes) }
        stream.onEnd = { [unowned self] _ in close() }
        do { try stream.startReading() } catch { close() }
    }

    /// Idle past the limit, or a head begun and not finished in time.
    func isStale(now: UInt64) -> Bool {
        let limit = buffer.isEmpty ? MetricsEndpoint.idleNanoseconds : MetricsEndpoint.headNanoseconds
        return now - lastActivity > limit
    }

    private func received(_ bytes: UnsafeRawBufferPointer) {
        guard !closing else { return }
        if buffer.isEmpty { lastActivity = EventLoop.monotonicNanoseconds() }
        buffer.append(contentsOf: bytes)
        while !closing {
            let parsed: (head: HTTPRequestHead, length: Int)?
            do {
                parsed = try HTTPRequestHead.parse(buffer[...])
            } catch {
                switch error {
                case .tooLarge:
                    return finish(HTTPResponse(status: "431 Request Header Fields Too Large", body: "request head over 8 KiB\n"))
                case .malformed(let reason):
                    return finish(HTTPResponse(status: "400 Bad Request", body: "\(reason)\n"))
                }
            }
            guard let (head, length) = parsed else { return }
            buffer.removeFirst(length)
            lastActivity = EventLoop.monotonicNanoseconds()
            let response = answer(head)
            // A body is never read: the connection ends after the answer
            // (405 for another method, else 400).
            if head.hasBody {
                let readsNoBody = head.method == "GET" || head.method == "HEAD"
                return finish(readsNoBody ? HTTPResponse(status: "400 Bad Request", body: "no request body is accepted\n") : response)
            }
            guard head.keepAlive else { return finish(response, includeBody: head.method != "HEAD") }
            stream.write(response.bytes(keepAlive: true, includeBody: head.method != "HEAD"))
        }
    }

    /// The last answer on this connection, then a close once it is written.
    private func finish(_ response: HTTPResponse, includeBody: Bool = true) {
        closing = true
        stream.write(response.bytes(keepAlive: false, includeBody: includeBody))
        stream.closeAfterPeer(loop: loop, lingerMilliseconds: 250) { [weak self] in self?.onClosed?() }
    }

    func close() {
        guard !stream.isClosed else { return }
        closing = true
        stream.close()
        onClosed?()
    }
}
