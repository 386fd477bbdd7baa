import SidecarCore
import SidecarWire

/// The Swift client of `sidecard`. Its zero value works: `SidecarClient()`
/// talks to the default socket (`$SIDECAR_SOCKET`, else the system daemon's
/// `/run/sidecar/sidecar.sock` when it exists, else the per-user socket:
/// `SidecarDefaults.clientSocket`). Calls share one connection, may run concurrently, and
/// throw `SidecarError`; a lost connection is re-made by the next call.
public final class SidecarClient: Sendable {
    public struct Options: Sendable {
        /// How long connecting keeps retrying while the socket is missing or
        /// refuses, which covers a daemon that is still starting.
        public var connectRetrySeconds: Double
        /// Sent in the HELLO, for the daemon's logs.
        public var clientName: String

        public init(connectRetrySeconds: Double = SidecarDefaults.clientConnectRetrySeconds, clientName: String = "swift-client") {
            self.connectRetrySeconds = connectRetrySeconds
            self.clientName = clientName
        }
    }

    public let socketPath: String
    let connector: Connector

    public init(socketPath: String? = nil, options: Options = Options()) {
        let (path, looked) = socketPath.map { ($0, [$0]) } ?? SidecarDefaults.clientSocket
        self.socketPath = path
        connector = Connector(socketPath: path, looked: looked, options: options)
    }

    /// Closes the connection; a later call opens a new one.
    public func close() async {
        await connector.close()
    }

    /// What the daemon said of itself in its HELLO_ACK (version, protocol
    /// revision, limits), on the current connection, opened if need be.
    public func serverInfo(timeout: Duration? = nil) async throws -> ServerInfo {
        // A reply comes after the HELLO_ACK on the same connection.
        _ = try await health(timeout: timeout)
        guard let info = try await connector.connection().server else {
            throw SidecarError(.internal, "the daemon answered without a HELLO_ACK")
        }
        return info
    }

    // MARK: Methods

    public func health(timeout: Duration? = nil) async throws -> HealthResponse {
        try await call(SidecarMethods.health, HealthRequest(), timeout: timeout)
    }

    public func classify(_ report: FailureReport, timeout: Duration? = nil) async throws -> Classification {
        try await call(SidecarMethods.classify, ClassifyRequest(report: report), timeout: timeout).classification
    }

    /// The daemon's classification rules in matching order: config, then built-in.
    public func listRules(timeout: Duration? = nil) async throws -> [ListedRule] {
        try await call(SidecarMethods.listRules, ListRulesRequest(), timeout: timeout).rules
    }

    /// The daemon's metrics in the Prometheus text format.
    public func metrics(timeout: Duration? = nil) async throws -> String {
        try await call(SidecarMethods.metrics, MetricsRequest(), timeout: timeout).text
    }

    /// Admin: re-reads the daemon's config file.
    public func reload(timeout: Duration? = nil) async throws -> ReloadResponse {
        try await call(SidecarMethods.reload, ReloadRequest(), timeout: timeout)
    }

    /// May this failed operation be retried, and when? A grant is durable
    /// before it is answered. Not safe to repeat blindly: each call may take
    /// an attempt.
    public func reserveRetrySlot(
        key: String, lastError: String, policy: String = "", exitCode: Int32? = nil, image: String = "",
        timeout: Duration? = nil
    ) async throws -> RetryDecision {
        try await reserveRetrySlotAnswer(
            key: key, lastError: lastError, policy: policy, exitCode: exitCode, image: image, timeout: timeout
        ).decision
    }

    /// The whole answer: the decision, and in fleet mode whether this host
    /// decided alone (the fleet unreachable).
    public func reserveRetrySlotAnswer(
        key: String, lastError: String, policy: String = "", exitCode: Int32? = nil, image: String = "",
        timeout: Duration? = nil
    ) async throws -> ReserveRetrySlotResponse {
        try await call(
            SidecarMethods.reserveRetrySlot,
            ReserveRetrySlotRequest(key: key, policy: policy, lastError: lastError, exitCode: exitCode, image: image),
            timeout: timeout)
    }

    /// Reports how a granted attempt ended.
    public func completeAttempt(key: String, success: Bool, error: String = "", timeout: Duration? = nil) async throws {
        _ = try await call(
            SidecarMethods.completeAttempt, CompleteAttemptRequest(key: key, success: success, error: error), timeout: timeout)
    }

    /// The retry keys the daemon tracks, by state ("active", "failed",
    /// "exhausted", "succeeded"; empty for all) and key prefix.
    /// Every page, by key (`timeout` is per page). A caller that is not an
    /// admin sees only the keys its uid created.
    public func listRetries(state: String = "", keyPrefix: String = "", timeout: Duration? = nil) async throws -> [RetryRecord] {
        try await everyPage { token in
            let request = ListRetriesRequest(state: state, keyPrefix: keyPrefix, pageToken: token)
            let page = try await call(SidecarMethods.listRetries, request, timeout: timeout)
            return (page.retries, page.nextPageToken)
        }
    }

    /// Asks for pages until one says it is the last.
    func everyPage<Item>(_ fetch: (String) async throws -> (items: [Item], next: String)) async throws -> [Item] {
        var items: [Item] = []
        var token = ""
        repeat {
            let page = try await fetch(token)
            items += page.items
            token = page.next
        } while !token.isEmpty
        return items
    }

    /// The retry policies the daemon runs with, sorted by name: what
    /// `reserveRetrySlot(policy:)` may name.
    public func listPolicies(timeout: Duration? = nil) async throws -> [NamedRetryPolicy] {
        try await call(SidecarMethods.listPolicies, ListPoliciesRequest(), timeout: timeout).policies
    }

    /// Admin: forgets a retry key, its attempts and its failure mark.
    public func resetRetry(key: String, timeout: Duration? = nil) async throws {
        _ = try await call(SidecarMethods.resetRetry, ResetRetryRequest(key: key), timeout: timeout)
    }

    /// Checks a SQLite file host-side (read-only). A path outside the
    /// daemon's roots throws PERMISSION_DENIED ("OUTSIDE_ROOTS: ...").
    public func checkDb(path: String, mode: DbCheckMode = .quick, maxErrors: UInt32 = 0, timeout: Duration? = nil) async throws -> CheckDbResponse {
        try await call(SidecarMethods.checkDb, CheckDbRequest(path: path, mode: mode, maxErrors: maxErrors), timeout: timeout)
    }

    /// Reports a SQLite error (or, with `ok`, a success) on `path` seen by
    /// `clientID`; the answer says whether to go on, exit 75, or stop.
    /// Not safe to repeat blindly: each report counts toward the streak.
    public func reportDbError(
        path: String, clientID: String, message: String = "", sqliteCode: Int32? = nil, ok: Bool = false,
        timeout: Duration? = nil
    ) async throws -> ReportDbErrorResponse {
        try await call(
            SidecarMethods.reportDbError,
            ReportDbErrorRequest(path: path, clientID: clientID, message: message, sqliteCode: sqliteCode, ok: ok),
            timeout: timeout)
    }

    /// Debug.Sleep (daemons with `debug_methods = true`): answers after `milliseconds`.
    public func debugSleep(milliseconds: UInt32, timeout: Duration? = nil) async throws -> SleepResponse {
        try await call(SidecarMethods.debugSleep, SleepRequest(milliseconds: milliseconds), timeout: timeout)
    }

    /// Events whose topic starts with one of `topics` (all when empty), until
    /// the consumer stops iterating, the deadline passes or the daemon ends.
    public func watch(topics: [String] = [], timeout: Duration? = nil) -> AsyncThrowingStream<SidecarEvent, Error> {
        stream(SidecarMethods.watch, WatchRequest(topics: topics), timeout: timeout)
    }

    // MARK: Generic calls

    /// Calls a unary method.
    package func call<Request, Response>(
        _ rpc: RPC<Request, Response>, _ request: Request, timeout: Duration? = nil
    ) async throws -> Response {
        let payload = try await rawUnary(rpc.name, payload: try request.wireBytesForSending(), timeout: timeout)
        return try Response(wireBytes: payload)
    }

    /// Calls a server-streaming method; its messages are decoded as they come.
    package func stream<Request, Response>(
        _ rpc: RPC<Request, Response>, _ request: Request, timeout: Duration? = nil
    ) -> AsyncThrowingStream<Response, Error> {
        let payload: [UInt8]
        do {
            payload = try request.wireBytesForSending()
        } catch {
            return AsyncThrowingStream { $0.finish(throwing: error) }
        }
        let raw = rawStream(rpc.name, payload: payload, timeout: timeout)
        return AsyncThrowingStream { continuation in
            let pump = Task {
                do {
                    for try await payload in raw {
                        continuation.yield(try Response(wireBytes: payload))
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in pump.cancel() }
        }
    }

    /// Calls a unary method with an already-encoded request.
    package func rawUnary(_ method: String, payload: [UInt8], timeout: Duration? = nil) async throws -> [UInt8] {
        try Task.checkCancellation()
        let connection = try await connector.connection()
        let timeoutMilliseconds = Self.milliseconds(timeout)
        let callID = CallIDBox()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let id = connection.start(
                    method: method, payload: payload, timeoutMilliseconds: timeoutMilliseconds,
                    pending: .unary(continuation))
                if let id {
                    callID.set(id)
                    Self.armLocalDeadline(connection, id: id, timeoutMilliseconds: timeoutMilliseconds)
                }
            }
        } onCancel: {
            callID.cancel { connection.cancel($0, with: SidecarError(.cancelled, "cancelled by the caller")) }
        }
    }

    private func rawStream(_ method: String, payload: [UInt8], timeout: Duration?) -> AsyncThrowingStream<[UInt8], Error> {
        let timeoutMilliseconds = Self.milliseconds(timeout)
        let connector = self.connector
        return AsyncThrowingStream { continuation in
            let opening = Task {
                do {
                    let connection = try await connector.connection()
                    guard let id = connection.start(
                        method: method, payload: payload, timeoutMilliseconds: timeoutMilliseconds,
                        pending: .stream(continuation))
                    else { return }
                    continuation.onTermination = { termination in
                        if case .cancelled = termination {
                            connection.cancel(id, with: SidecarError(.cancelled, "cancelled by the caller"))
                        }
                    }
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in opening.cancel() }
        }
    }

    static func milliseconds(_ timeout: Duration?) -> UInt32 {
        guard let timeout else { return 0 }
        let (seconds, attoseconds) = timeout.components
        let total = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        return UInt32(max(1, min(total.rounded(.up), Double(UInt32.max))))
    }

    /// The daemon enforces the deadline; this catches a daemon that cannot
    /// (stopped, wedged) a second later, so no call waits for ever.
    private static func armLocalDeadline(_ connection: ClientConnection, id: UInt64, timeoutMilliseconds: UInt32) {
        guard timeoutMilliseconds > 0 else { return }
        Task {
            try? await Task.sleep(for: .milliseconds(Int(timeoutMilliseconds) + 1000))
            connection.cancel(id, with: SidecarError(
                .deadlineExceeded, "no answer within \(timeoutMilliseconds) ms (the daemon did not enforce the deadline)"))
        }
    }
}

/// The daemon as its HELLO_ACK describes it.
public struct ServerInfo: Sendable, Equatable {
    public var version: String
    public var protocolVersion: UInt32
    public var maxMessageBytes: UInt32
    public var maxInflightCalls: UInt32
}
