import CCurl
import CCurlShims

/// One request in flight: its curl easy handle and what the handle points
/// at (the body, the header list, the error buffer), kept alive until curl is
/// done with them.
public final class HTTPTransfer {
    let easy: UnsafeMutableRawPointer
    private let body: UnsafeMutableRawBufferPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    let errorBuffer: UnsafeMutablePointer<CChar>
    private let onChunk: ((UnsafeRawBufferPointer) -> Void)?
    /// Called once the response's headers are in, with its status: a stream
    /// that sends nothing for a while is known to be connected.
    public var onHeaders: ((Int) -> Void)?
    private(set) var done: ((Result<HTTPResponse, HTTPError>) -> Void)?
    private var received: [UInt8] = []
    var isFinished: Bool { done == nil }

    init(
        request: HTTPRequest, socketPath: String, baseURL: String, onChunk: ((UnsafeRawBufferPointer) -> Void)?,
        done: @escaping (Result<HTTPResponse, HTTPError>) -> Void
    ) throws(HTTPError) {
        guard let easy = curl_easy_init() else { throw HTTPError(.transfer, "curl_easy_init failed") }
        self.easy = easy
        self.onChunk = onChunk
        self.done = done
        let body = UnsafeMutableRawBufferPointer.allocate(byteCount: max(request.body.count, 1), alignment: 1)
        request.body.withUnsafeBytes { if let base = $0.baseAddress { body.baseAddress!.copyMemory(from: base, byteCount: $0.count) } }
        self.body = body
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        for header in request.headers { headerList = curl_slist_append(headerList, header) }

        if socketPath.isEmpty {
            // A registry's blobs may be served from elsewhere (a redirect).
            sidecar_curl_easy_set_long(easy, CURLOPT_FOLLOWLOCATION, 1)
        } else {
            // The host is never resolved: the socket path decides where it goes.
            sidecar_curl_easy_set_string(easy, CURLOPT_UNIX_SOCKET_PATH, socketPath)
        }
        sidecar_curl_easy_set_string(easy, CURLOPT_URL, baseURL + request.path)
        sidecar_curl_easy_set_string(easy, CURLOPT_CUSTOMREQUEST, request.method)
        sidecar_curl_easy_set_long(easy, CURLOPT_NOSIGNAL, 1)
        sidecar_curl_easy_set_long(easy, CURLOPT_CONNECTTIMEOUT_MS, 5000)
        sidecar_curl_easy_set_long(easy, CURLOPT_TIMEOUT_MS, Int(request.timeoutSeconds * 1000))
        sidecar_curl_easy_set_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        if let headerList { sidecar_curl_easy_set_pointer(easy, CURLOPT_HTTPHEADER, headerList) }
        if !request.body.isEmpty || request.method == "POST" {
            sidecar_curl_easy_set_pointer(easy, CURLOPT_POSTFIELDS, body.baseAddress)
            sidecar_curl_easy_set_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
        }
        sidecar_curl_easy_set_data_callback(easy, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            let transfer = Unmanaged<HTTPTransfer>.fromOpaque(context!).takeUnretainedValue()
            let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
            transfer.receive(bytes)
            return size * count
        }
        sidecar_curl_easy_set_data_callback(easy, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            // The blank line that ends the headers (of the final response).
            if size * count == 2, let data, data[0] == 13, data[1] == 10 {
                let transfer = Unmanaged<HTTPTransfer>.fromOpaque(context!).takeUnretainedValue()
                var status = 0
                sidecar_curl_easy_get_long(transfer.easy, CURLINFO_RESPONSE_CODE, &status)
                if status >= 200 { transfer.onHeaders?(status) }
            }
            return size * count
        }
        // Unretained: the client holds the transfer while curl does.
        let context = Unmanaged.passUnretained(self).toOpaque()
        sidecar_curl_easy_set_pointer(easy, CURLOPT_WRITEDATA, context)
        sidecar_curl_easy_set_pointer(easy, CURLOPT_HEADERDATA, context)
        sidecar_curl_easy_set_pointer(easy, CURLOPT_PRIVATE, context)
    }

    private func receive(_ bytes: UnsafeRawBufferPointer) {
        if let onChunk { onChunk(bytes) } else { received.append(contentsOf: bytes) }
    }

    /// Ends the transfer once: the answer, or the error curl reported.
    func finish(_ code: CURLcode) {
        guard let done else { return }
        self.done = nil
        if code == CURLE_OK {
            var status = 0
            sidecar_curl_easy_get_long(easy, CURLINFO_RESPONSE_CODE, &status)
            done(.success(HTTPResponse(status: status, body: received)))
        } else {
            // curl's own detail names the URL's host and port, which mean
            // nothing on a Unix socket: a refused connect says just that.
            let detail = String(cString: errorBuffer)
            let message = detail.isEmpty || code == CURLE_COULDNT_CONNECT ? String(cString: curl_easy_strerror(code)) : detail
            let kind: HTTPError.Kind = switch code {
            case CURLE_COULDNT_CONNECT: .cannotConnect
            case CURLE_OPERATION_TIMEDOUT: .timedOut
            default: .transfer
            }
            done(.failure(HTTPError(kind, message)))
        }
    }

    func cancel() {
        guard let done else { return }
        self.done = nil
        done(.failure(HTTPError(.cancelled, "cancelled")))
    }

    deinit {
        curl_easy_cleanup(easy)
        curl_slist_free_all(headerList)
        body.deallocate()
        errorBuffer.deallocate()
    }
}
