import SidecarConfig
import SidecarLoop

/// `metrics.listen`: `GET /metrics` (the Prometheus text of the Metrics
/// RPC) and `GET /healthz` over HTTP/1.1 on the loop, for Prometheus and
/// node agents that cannot speak the socket's protocol. A reload that
/// changes the address moves the listener.
final class MetricsEndpoint: DaemonService {
    static let maxConnections = 32
    /// A connection idle this long, or a request head unfinished this long,
    /// is closed (Prometheus reconnects at its next scrape).
    static let idleNanoseconds: UInt64 = 60_000_000_000
    static let headNanoseconds: UInt64 = 10_000_000_000

    private let loop: EventLoop
    private let context: DaemonContext
    private let status: DaemonStatus
    private let server: Server
    private var listener: TCPListener?
    private var address: DaemonConfig.ListenAddress?
    private var connections: [ObjectIdentifier: HTTPConnection] = [:]
    private var sweep: LoopTimer?

    /// The port bound (the kernel's pick when the config says 0); nil when off.
    var port: UInt16? { listener?.port }

    init(loop: EventLoop, server: Server, status: DaemonStatus) {
        self.loop = loop
        self.server = server
        self.status = status
        context = server.context
    }

    /// A listen address that cannot be bound at start stops the daemon: the
    /// operator asked for it.
    func start() throws {
        try listen(on: context.config.metrics.listen)
        let sweep = try LoopTimer(loop: loop)
        sweep.start(after: 5000, repeat: 5000) { [unowned self] in closeIdle() }
        sweep.unref()
        self.sweep = sweep
    }

    func configure(_ config: DaemonConfig) {
        guard config.metrics.listen != address else { return }
        do {
            try listen(on: config.metrics.listen)
        } catch {
            context.logger.error("metrics: \(error); nothing serves /metrics until the next reload")
        }
    }

    func close() {
        sweep?.close()
        listener?.close()
        listener = nil
        for connection in connections.values { connection.close() }
        connections = [:]
    }

    private func listen(on wanted: DaemonConfig.ListenAddress?) throws {
        listener?.close()
        listener = nil
        address = nil
        guard let wanted else { return }
        let listener = try TCPListener(loop: loop, host: wanted.host, port: wanted.port)
        listener.onConnection = { [unowned self] stream in accept(stream) }
        listener.onAcceptError = { [context] error in context.logger.warning("metrics: \(error)") }
        self.listener = listener
        address = wanted
        let shown = DaemonConfig.ListenAddress(host: wanted.host, port: listener.port)
        context.logger.info("metrics: serving http://\(shown)/metrics and /healthz")
    }

    private func accept(_ stream: LoopStream) {
        guard connections.count < Self.maxConnections else { return stream.close() }
        let connection = HTTPConnection(stream: stream, loop: loop) { [unowned self] head in respond(to: head) }
        let key = ObjectIdentifier(connection)
        connection.onClosed = { [unowned self] in connections[key] = nil }
        connections[key] = connection
        connection.start()
    }

    private func respond(to head: HTTPRequestHead) -> HTTPResponse {
        guard head.method == "GET" || head.method == "HEAD" else {
            return HTTPResponse(status: "405 Method Not Allowed", body: "GET or HEAD only\n", extraHeaders: ["Allow: GET, HEAD"])
        }
        switch head.path {
        case "/metrics":
            return HTTPResponse(status: "200 OK", contentType: "text/plain; version=0.0.4; charset=utf-8", body: status.metricsText())
        case "/healthz":
            return server.state == .serving
                ? HTTPResponse(status: "200 OK", body: "ok\n")
                : HTTPResponse(status: "503 Service Unavailable", body: "draining\n")
        default:
            return HTTPResponse(status: "404 Not Found", body: "/metrics or /healthz\n")
        }
    }

    private func closeIdle() {
        let now = EventLoop.monotonicNanoseconds()
        for connection in connections.values where connection.isStale(now: now) { connection.close() }
    }
}
