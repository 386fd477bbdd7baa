import CPQ
import Glibc
import SidecarLoop

/// One libpq connection driven by the daemon's loop: connecting with
/// `PQconnectPoll`, statements sent in pipeline mode, results read as the
/// socket becomes readable. No call here blocks: libpq never resolves a
/// name (they are looked up on the thread pool first), a batch past its
/// deadline drops the connection instead of `PQcancel` (which blocks), and
/// a lost connection is made again after a back-off.
///
/// A batch is its statements followed by a sync: the server runs them as
/// one implicit transaction, committed before the batch is answered, and
/// rolled back whole if one fails.
public final class PostgresConnection {
    public var onStateChange: ((PostgresLinkState) -> Void)?
    /// LISTEN's notifications: channel and payload.
    public var onNotification: ((String, String) -> Void)?
    public private(set) var state: PostgresLinkState = .down("not started")

    private let loop: EventLoop
    private let parameters: [(String, String)]
    private let connectTimeoutMilliseconds: UInt64
    private var connection: OpaquePointer?
    private var poll: LoopPoll?
    private var pollingWritable = false
    /// What the socket's readiness drives: the connect steps, then reading.
    private var socketEvent: () -> Void = {}
    private let deadlineTimer: LoopTimer
    private let reconnectTimer: LoopTimer
    private var inFlight: [Batch] = []
    private var connectDeadline: UInt64 = 0
    /// Tells a late name lookup from the attempt it was made for.
    private var connectAttempt = 0
    private var backoffMilliseconds: UInt64
    private var closed = false

    static let firstBackoffMilliseconds: UInt64 = 250
    static let maxBackoffMilliseconds: UInt64 = 1000

    private final class Batch {
        let statements: [PostgresStatement]
        let deadline: UInt64
        let milliseconds: UInt64
        let done: (Result<[PostgresRows], PostgresFailure>) -> Void
        var index = 0
        var rows: [PostgresRows] = []
        var failure: PostgresFailure?
        var current: PostgresRows?

        init(
            _ statements: [PostgresStatement], milliseconds: UInt64, now: UInt64,
            _ done: @escaping (Result<[PostgresRows], PostgresFailure>) -> Void
        ) {
            self.statements = statements
            self.milliseconds = milliseconds
            deadline = now + milliseconds
            self.done = done
        }
    }

    /// `parameters`: libpq's connection keywords and values, in order.
    public init(loop: EventLoop, parameters: [(String, String)], connectTimeoutMilliseconds: UInt64) throws {
        self.loop = loop
        self.parameters = parameters
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        backoffMilliseconds = Self.firstBackoffMilliseconds
        deadlineTimer = try LoopTimer(loop: loop)
        reconnectTimer = try LoopTimer(loop: loop)
    }

    deinit {
        if let connection { PQfinish(connection) }
    }

    public var isReady: Bool { state == .ready }

    public func start() {
        guard !closed, connection == nil else { return }
        connect()
    }

    /// Runs `statements` as one transaction. Refused at once (unavailable)
    /// when not connected; otherwise answered by the commit, a refusal, or
    /// a lost connection, within `milliseconds`.
    public func run(
        _ statements: [PostgresStatement], within milliseconds: UInt64,
        _ done: @escaping (Result<[PostgresRows], PostgresFailure>) -> Void
    ) {
        guard let connection, state == .ready else {
            return done(.failure(.unavailable(downReason)))
        }
        guard statements.allSatisfy({ send($0, on: connection) }), PQpipelineSync(connection) == 1 else {
            let reason = "cannot send to PostgreSQL: \(errorMessage(connection))"
            done(.failure(.unavailable(reason)))
            return drop(reason)
        }
        inFlight.append(Batch(statements, milliseconds: milliseconds, now: loop.nowMilliseconds, done))
        armDeadline()
        flush()
    }

    public func close() {
        guard !closed else { return }
        closed = true
        disconnect(failing: "the daemon is closing its PostgreSQL connection")
        deadlineTimer.close()
        reconnectTimer.close()
        onStateChange = nil
        onNotification = nil
    }

    // MARK: Connecting

    private var downReason: String {
        if case .down(let reason) = state { return "PostgreSQL is unreachable: \(reason)" }
        return "PostgreSQL is not connected yet"
    }

    private func connect() {
        setState(.connecting)
        connectDeadline = loop.nowMilliseconds + connectTimeoutMilliseconds
        armDeadline()
        connectAttempt &+= 1
        let attempt = connectAttempt
        PostgresHostResolution.resolve(parameters, loop: loop) { [weak self] resolved in
            guard let self, !closed, attempt == connectAttempt, connectDeadline > 0 else { return }
            switch resolved {
            case .success(let parameters): startConnecting(parameters)
            case .failure(let failure): failConnect(failure.description)
            }
        }
    }

    private func startConnecting(_ parameters: [(String, String)]) {
        let started = Self.withCStrings(parameters.map(\.0) + [nil]) { keywords in
            Self.withCStrings(parameters.map(\.1) + [nil]) { values in PQconnectStartParams(keywords, values, 0) }
        }
        guard let started, PQstatus(started) != CONNECTION_BAD else {
            let reason = started.map { errorMessage($0) } ?? "out of memory"
            if let started { PQfinish(started) }
            return failConnect(reason)
        }
        connection = started
        // libpq's rule: the first poll waits for the socket to be writable.
        watch(writable: true, step: continueConnect)
    }

    private func continueConnect() {
        guard let connection else { return }
        switch PQconnectPoll(connection) {
        case PGRES_POLLING_READING: watch(writable: false, step: continueConnect)
        case PGRES_POLLING_WRITING: watch(writable: true, step: continueConnect)
        case PGRES_POLLING_OK: connected(connection)
        default: failConnect(errorMessage(connection))
        }
    }

    private func connected(_ connection: OpaquePointer) {
        guard PQsetnonblocking(connection, 1) == 0, PQenterPipelineMode(connection) == 1 else {
            return failConnect("cannot enter pipeline mode: \(errorMessage(connection))")
        }
        connectDeadline = 0
        backoffMilliseconds = Self.firstBackoffMilliseconds
        watch(writable: false, step: readable)
        setState(.ready)
    }

    private func failConnect(_ reason: String) {
        disconnect(failing: reason)
        setState(.down(reason))
        scheduleReconnect()
    }

    private func scheduleReconnect() {
        guard !closed else { return }
        let wait = backoffMilliseconds
        backoffMilliseconds = min(Self.maxBackoffMilliseconds, backoffMilliseconds * 2)
        reconnectTimer.start(after: wait) { [unowned self] in self.connect() }
    }

    // MARK: Running

    private func send(_ statement: PostgresStatement, on connection: OpaquePointer) -> Bool {
        Self.withCStrings(statement.parameters) { values in
            PQsendQueryParams(connection, statement.sql, Int32(statement.parameters.count), nil, values, nil, nil, 0) == 1
        }
    }

    /// `strings` as the C array libpq takes (nil stays NULL), for `body` only.
    private static func withCStrings<Result>(
        _ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> Result
    ) -> Result {
        let copies = strings.map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        return copies.map { UnsafePointer($0) }.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    private func flush() {
        guard let connection else { return }
        switch PQflush(connection) {
        case 0: setWritable(false)
        case 1: setWritable(true)
        default: drop("cannot write to PostgreSQL: \(errorMessage(connection))")
        }
    }

    private func readable() {
        guard let connection else { return }
        if pollingWritable { flush() }
        guard PQconsumeInput(connection) == 1 else {
            return drop("lost the connection to PostgreSQL: \(errorMessage(connection))")
        }
        drainResults(connection)
        // A batch's answer may have closed or dropped the connection.
        guard self.connection == connection else { return }
        // A listener may drop the connection too.
        while self.connection == connection, let notice = PQnotifies(connection) {
            let channel = String(cString: notice.pointee.relname)
            let payload = String(cString: notice.pointee.extra)
            PQfreemem(notice)
            onNotification?(channel, payload)
        }
        if self.connection != nil, PQstatus(connection) == CONNECTION_BAD {
            drop("lost the connection to PostgreSQL: \(errorMessage(connection))")
        }
    }

    /// Results come in order: each statement's, ended by a null result,
    /// then the sync's. Read only while libpq has them whole.
    private func drainResults(_ connection: OpaquePointer) {
        while let batch = inFlight.first, self.connection == connection, PQisBusy(connection) == 0 {
            let result = PQgetResult(connection)
            if batch.index == batch.statements.count {
                guard let result else { return }
                let status = PQresultStatus(result)
                if status == PGRES_FATAL_ERROR, batch.failure == nil { batch.failure = failure(of: result) }
                PQclear(result)
                guard status == PGRES_PIPELINE_SYNC else { continue }
                inFlight.removeFirst()
                armDeadline()
                batch.done(batch.failure.map { .failure($0) } ?? .success(batch.rows))
                continue
            }
            guard let result else {
                batch.rows.append(batch.current ?? PostgresRows(rows: []))
                batch.current = nil
                batch.index += 1
                continue
            }
            switch PQresultStatus(result) {
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK: batch.current = rows(of: result)
            case PGRES_PIPELINE_ABORTED: break
            default: if batch.failure == nil { batch.failure = failure(of: result) }
            }
            PQclear(result)
        }
    }

    private func rows(of result: OpaquePointer) -> PostgresRows {
        let count = PQntuples(result)
        let fields = PQnfields(result)
        var rows: [[String?]] = []
        rows.reserveCapacity(Int(count))
        for row in 0..<count {
            var values: [String?] = []
            values.reserveCapacity(Int(fields))
            for field in 0..<fields {
                values.append(PQgetisnull(result, row, field) == 1 ? nil : String(cString: PQgetvalue(result, row, field)))
            }
            rows.append(values)
        }
        return PostgresRows(rows: rows)
    }

    private func failure(of result: OpaquePointer) -> PostgresFailure {
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
        let message = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
            ?? String(cString: PQresultErrorMessage(result))
        return .statement(sqlState: state, message: message)
    }

    // MARK: Deadlines and loss

    private func armDeadline() {
        let deadlines = inFlight.map(\.deadline) + (connectDeadline > 0 ? [connectDeadline] : [])
        guard let first = deadlines.min() else { return deadlineTimer.stop() }
        let now = loop.nowMilliseconds
        deadlineTimer.start(after: first > now ? first - now : 0) { [unowned self] in self.deadlinePassed() }
    }

    private func deadlinePassed() {
        let now = loop.nowMilliseconds
        if connectDeadline > 0, now >= connectDeadline {
            return failConnect("no connection within \(connectTimeoutMilliseconds) ms")
        }
        if let late = inFlight.first(where: { now >= $0.deadline }) {
            return drop("no answer from PostgreSQL within \(late.milliseconds) ms")
        }
        armDeadline()
    }

    /// Gives the connection up: every batch in flight fails (its effect is
    /// unknown), and a new connection is tried after the back-off.
    private func drop(_ reason: String) {
        guard connection != nil else { return }
        failConnect(reason)
    }

    private func disconnect(failing reason: String) {
        poll?.close()
        poll = nil
        socketEvent = {}
        if let connection { PQfinish(connection) }
        connection = nil
        connectDeadline = 0
        let failed = inFlight
        inFlight = []
        deadlineTimer.stop()
        for batch in failed { batch.done(.failure(.unavailable(reason))) }
    }

    /// Polls the connection's socket, read again after every libpq step (it
    /// may open another one), with a fresh handle each time: libuv must
    /// never watch a descriptor number that libpq closed and reused.
    private func watch(writable: Bool, step: @escaping () -> Void) {
        guard let connection else { return }
        let socket = PQsocket(connection)
        poll?.close()
        poll = nil
        guard socket >= 0 else { return failConnect("libpq has no socket: \(errorMessage(connection))") }
        do {
            poll = try LoopPoll(loop: loop, socket: socket)
        } catch {
            return failConnect("cannot poll PostgreSQL's socket: \(error)")
        }
        socketEvent = step
        pollingWritable = !writable
        setWritable(writable)
    }

    /// While connected the socket keeps its handle; only the events change.
    private func setWritable(_ writable: Bool) {
        guard writable != pollingWritable, let poll else { return }
        pollingWritable = writable
        poll.start(writable ? [.readable, .writable] : [.readable]) { [unowned self] fired in
            switch fired {
            case .success: self.socketEvent()
            case .failure(let error): self.drop("polling PostgreSQL's socket failed: \(error)")
            }
        }
    }

    private func setState(_ new: PostgresLinkState) {
        guard new != state else { return }
        state = new
        onStateChange?(new)
    }

    /// libpq's message on one line (it writes several, indented with tabs).
    private func errorMessage(_ connection: OpaquePointer) -> String {
        String(cString: PQerrorMessage(connection)).split(whereSeparator: \.isNewline)
            .map { $0.trimmingPrefix(while: \.isWhitespace) }.filter { !$0.isEmpty }.joined(separator: " ")
    }
}
