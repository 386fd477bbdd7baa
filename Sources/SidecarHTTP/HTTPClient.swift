import CCurl
import CCurlShims
import SidecarLoop

/// HTTP/1.1 to one Unix socket (an engine's API) or one base URL (a
/// registry), on the loop: libcurl's multi-socket API with its sockets
/// watched by libuv polls and its time-outs by a libuv timer, so no request
/// ever blocks the loop thread. Loop thread only.
public final class HTTPClient {
    /// Empty for a client of a base URL.
    public let socketPath: String
    /// "http://localhost" for a Unix socket (the host is never resolved).
    private let baseURL: String
    private let loop: EventLoop
    private let multi: UnsafeMutableRawPointer
    private let timer: LoopTimer
    private var polls: [Int32: LoopPoll] = [:]
    private var transfers: [ObjectIdentifier: HTTPTransfer] = [:]
    private var closed = false

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public convenience init(loop: EventLoop, socketPath: String) throws {
        try self.init(loop: loop, socketPath: socketPath, baseURL: "http://localhost")
    }

    /// A client of `baseURL` ("http://127.0.0.1:5000"): give a numeric
    /// address, since curl would resolve a name with a blocking call unless
    /// it was built with an asynchronous resolver.
    public convenience init(loop: EventLoop, baseURL: String) throws {
        try self.init(loop: loop, socketPath: "", baseURL: baseURL)
    }

    private init(loop: EventLoop, socketPath: String, baseURL: String) throws {
        _ = Self.globalInit
        self.baseURL = baseURL
        guard let multi = curl_multi_init() else { throw HTTPError(.transfer, "curl_multi_init failed") }
        self.loop = loop
        self.socketPath = socketPath
        self.multi = multi
        timer = try LoopTimer(loop: loop)
        let context = Unmanaged.passUnretained(self).toOpaque()
        sidecar_curl_multi_set_pointer(multi, CURLMOPT_SOCKETDATA, context)
        sidecar_curl_multi_set_pointer(multi, CURLMOPT_TIMERDATA, context)
        sidecar_curl_multi_set_socket_callback(multi) { _, socket, what, context, _ in
            Unmanaged<HTTPClient>.fromOpaque(context!).takeUnretainedValue().watch(socket: socket, what: what)
            return 0
        }
        sidecar_curl_multi_set_timer_callback(multi) { _, milliseconds, context in
            Unmanaged<HTTPClient>.fromOpaque(context!).takeUnretainedValue().setTimer(milliseconds)
            return 0
        }
    }

    /// Starts `request`. `done` runs once on the loop thread. With `onChunk`,
    /// the body is handed over as it arrives and the response's is empty.
    @discardableResult
    public func send(
        _ request: HTTPRequest, onChunk: ((UnsafeRawBufferPointer) -> Void)? = nil,
        done: @escaping (Result<HTTPResponse, HTTPError>) -> Void
    ) -> HTTPTransfer? {
        guard !closed else {
            done(.failure(HTTPError(.cancelled, "the HTTP client is closed")))
            return nil
        }
        let transfer: HTTPTransfer
        do {
            transfer = try HTTPTransfer(request: request, socketPath: socketPath, baseURL: baseURL, onChunk: onChunk, done: done)
        } catch {
            done(.failure(error))
            return nil
        }
        let added = curl_multi_add_handle(multi, transfer.easy)
        guard added == CURLM_OK else {
            transfer.cancel()
            return nil
        }
        transfers[ObjectIdentifier(transfer)] = transfer
        return transfer
    }

    /// Ends a transfer early (an event stream); its `done` gets CANCELLED.
    public func cancel(_ transfer: HTTPTransfer) {
        guard transfers.removeValue(forKey: ObjectIdentifier(transfer)) != nil else { return }
        curl_multi_remove_handle(multi, transfer.easy)
        transfer.cancel()
    }

    public func close() {
        guard !closed else { return }
        closed = true
        for transfer in Array(transfers.values) { cancel(transfer) }
        timer.close()
        for poll in polls.values { poll.close() }
        polls.removeAll()
        curl_multi_cleanup(multi)
    }

    // MARK: curl's callbacks

    private func watch(socket: Int32, what: Int32) {
        if what == CURL_POLL_REMOVE {
            polls.removeValue(forKey: socket)?.close()
            return
        }
        let poll: LoopPoll
        if let existing = polls[socket] {
            poll = existing
        } else {
            guard let made = try? LoopPoll(loop: loop, socket: socket) else { return }
            polls[socket] = made
            poll = made
        }
        var events: LoopPoll.Events = []
        if what == CURL_POLL_IN || what == CURL_POLL_INOUT { events.insert(.readable) }
        if what == CURL_POLL_OUT || what == CURL_POLL_INOUT { events.insert(.writable) }
        poll.start(events) { [unowned self] result in
            var flags: Int32 = 0
            switch result {
            case .success(let ready):
                if ready.contains(.readable) { flags |= CURL_CSELECT_IN }
                if ready.contains(.writable) { flags |= CURL_CSELECT_OUT }
            case .failure:
                flags = CURL_CSELECT_ERR
            }
            act(on: socket, flags: flags)
        }
    }

    private func setTimer(_ milliseconds: Int) {
        // curl must not be called from inside its timer callback: only arm.
        guard milliseconds >= 0 else { return timer.stop() }
        timer.start(after: UInt64(milliseconds)) { [unowned self] in act(on: CURL_SOCKET_BAD, flags: 0) }
    }

    /// Lets curl work on `socket` (CURL_SOCKET_BAD: its time-outs), then
    /// finishes what it says is done.
    private func act(on socket: Int32, flags: Int32) {
        guard !closed else { return }
        var running: Int32 = 0
        curl_multi_socket_action(multi, socket, flags, &running)
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let code = message.pointee.data.result
            var context: UnsafeMutableRawPointer?
            sidecar_curl_easy_get_pointer(easy, CURLINFO_PRIVATE, &context)
            curl_multi_remove_handle(multi, easy)
            guard let context else { continue }
            let transfer = Unmanaged<HTTPTransfer>.fromOpaque(context).takeUnretainedValue()
            transfers[ObjectIdentifier(transfer)] = nil
            transfer.finish(code)
            // A caller may close the client from its answer: curl's handle is gone.
            if closed { return }
        }
    }
}
