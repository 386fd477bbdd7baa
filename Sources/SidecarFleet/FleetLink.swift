import SidecarLoop
import SidecarPostgres

/// This host's link to the fleet's PostgreSQL: the connection, the schema
/// made current on every connect, and a heartbeat, so that a server or a
/// link that went away is noticed within two seconds even when no call
/// asks anything of it.
public final class FleetLink {
    public enum Status: Sendable, Equatable {
        case connecting
        case connected
        /// Unreachable (or unusable) since `since` (Unix seconds).
        case degraded(reason: String, since: Double)
    }

    public private(set) var status: Status = .connecting
    /// The link went down (or never came up): the reason.
    public var onDegraded: ((String) -> Void)?
    /// The link is usable again after being degraded.
    public var onRestored: (() -> Void)?

    public let connection: PostgresConnection
    /// LISTEN's channels, each session again, and who hears them.
    private var listeners: [String: (String) -> Void] = [:]
    private let heartbeat: LoopTimer
    private var heartbeatInFlight = false
    /// A migration is on its way (from the connect or a heartbeat's retry).
    private var migrating = false

    /// A heartbeat every half second, answered within one: a silent link
    /// fails one within 1.5 s.
    static let heartbeatMilliseconds: UInt64 = 500
    static let heartbeatTimeoutMilliseconds: UInt64 = 1000

    /// `parameters` from `connectionParameters(...)`.
    public init(loop: EventLoop, parameters: [(String, String)], connectTimeoutMilliseconds: UInt64) throws {
        connection = try PostgresConnection(loop: loop, parameters: parameters, connectTimeoutMilliseconds: connectTimeoutMilliseconds)
        heartbeat = try LoopTimer(loop: loop)
        heartbeat.unref()
    }

    public var isUsable: Bool { status == .connected }

    /// Hears `channel`'s payloads, on every connection from now on. What
    /// was notified while the link was down is never heard: listeners
    /// read the state again when the link is back (`onRestored`).
    public func listen(to channel: String, _ hear: @escaping (String) -> Void) {
        listeners[channel] = hear
    }

    public func start() {
        connection.onNotification = { [unowned self] channel, payload in listeners[channel]?(payload) }
        connection.onStateChange = { [unowned self] state in
            switch state {
            case .connecting: break
            case .ready: makeSchemaCurrent()
            case .down(let reason): degrade(reason)
            }
        }
        heartbeat.start(after: Self.heartbeatMilliseconds, repeat: Self.heartbeatMilliseconds) { [unowned self] in beat() }
        connection.start()
    }

    public func close() {
        heartbeat.close()
        connection.close()
        onDegraded = nil
        onRestored = nil
    }

    private func makeSchemaCurrent() {
        guard !migrating else { return }
        migrating = true
        let listens = listeners.keys.sorted().map { PostgresStatement("LISTEN \($0)") }
        connection.run([FleetSchema.migrate] + listens, within: 10_000) { [weak self] result in
            guard let self else { return }
            migrating = false
            switch result {
            case .success:
                let wasDegraded = status != .connected
                status = .connected
                if wasDegraded { onRestored?() }
            case .failure(let failure):
                degrade("cannot make the fleet schema current: \(failure)")
            }
        }
    }

    private func beat() {
        guard connection.isReady, !heartbeatInFlight else { return }
        // Connected but not usable: the schema failed (a newer one?); again.
        guard isUsable else { return makeSchemaCurrent() }
        heartbeatInFlight = true
        connection.run([PostgresStatement("SELECT 1")], within: Self.heartbeatTimeoutMilliseconds) { [weak self] _ in
            self?.heartbeatInFlight = false
        }
    }

    private func degrade(_ reason: String) {
        heartbeatInFlight = false
        if case .degraded = status { return }
        status = .degraded(reason: reason, since: WallClock.unixSeconds())
        onDegraded?(reason)
    }

    /// libpq's parameters for `connectionString`: the operator's, then what
    /// the daemon needs of every session (keepalives that notice a lost host
    /// in seconds, statement and idle-in-transaction bounds). Refuses a
    /// password in the string: it would sit in a world-readable config.
    public static func connectionParameters(
        _ connectionString: String, password: String?, hostID: String, statementTimeoutMilliseconds: UInt64
    ) throws(PostgresConnectionString.Invalid) -> [(String, String)] {
        var given = try PostgresConnectionString.parse(connectionString)
        if given.contains(where: { $0.0 == "password" }) {
            throw .init(description: "holds a password: put it in fleet.password_file or in PGPASSFILE instead")
        }
        if let password { given.append(("password", password)) }
        let options = (given.first(where: { $0.0 == "options" })?.1).map { $0 + " " } ?? ""
        given.removeAll { $0.0 == "options" }
        given += [
            ("fallback_application_name", "sidecard \(hostID)"),
            ("keepalives", "1"), ("keepalives_idle", "5"), ("keepalives_interval", "1"), ("keepalives_count", "3"),
            ("options", options + "-c statement_timeout=\(statementTimeoutMilliseconds) -c idle_in_transaction_session_timeout=10000 -c client_min_messages=warning"),
        ]
        return given
    }
}
