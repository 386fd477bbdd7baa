import SidecarHTTP
import SidecarLoop

/// Follows `GET /events` (images only) and tells the backend what it hears.
/// When the engine goes away it reconnects with a growing delay; once back,
/// the backend re-verifies presence, since events may have been missed.
final class EngineEventStream {
    static let firstRetryMilliseconds: UInt64 = 250
    static let maxRetryMilliseconds: UInt64 = 5000

    private unowned let backend: DockerEngineBackend
    private let timer: LoopTimer
    private var transfer: HTTPTransfer?
    private var retryMilliseconds = firstRetryMilliseconds
    private var closed = false

    init(loop: EventLoop, backend: DockerEngineBackend) throws {
        self.backend = backend
        timer = try LoopTimer(loop: loop)
    }

    func connect() {
        guard !closed else { return }
        backend.negotiatedPrefix { [self] version in
            guard !closed else { return }
            guard case .success(let prefix) = version else { return retryLater() }
            let request = backend.eventRequest(prefix: prefix)
            var lines = JSONLines()
            transfer = backend.http.send(request, onChunk: { [unowned self] chunk in
                for event in lines.feed(chunk) { backend.eventArrived(event) }
            }) { [weak self] _ in
                // Every end of an endless stream is a loss: the engine
                // stopped, restarted or dropped us.
                guard let self, !closed else { return }
                transfer = nil
                backend.eventStreamChanged(up: false)
                backend.forgetVersion()
                retryLater()
            }
            transfer?.onHeaders = { [weak self] status in
                guard let self, status == 200 else { return }
                retryMilliseconds = Self.firstRetryMilliseconds
                backend.eventStreamChanged(up: true)
            }
        }
    }

    private func retryLater() {
        guard !closed else { return }
        let delay = retryMilliseconds
        retryMilliseconds = min(retryMilliseconds * 2, Self.maxRetryMilliseconds)
        timer.start(after: delay) { [unowned self] in connect() }
    }

    func close() {
        closed = true
        timer.close()
        if let transfer { backend.http.cancel(transfer) }
        transfer = nil
    }
}
