import SidecarPostgres

/// The fleet's build claims (FleetBuildSQL) as calls, each its own
/// transaction, and the NOTIFY that a key changed.
public final class FleetBuilds {
    /// A build key's row as a host sees it.
    public struct Row: Sendable, Equatable {
        public enum State: String, Sendable {
            /// Built and pushed: pull `publishedRef` (by digest).
            case published
            /// The last try failed; nobody tries again before `failedUntil`.
            case failed
            /// Another host holds a live claim and builds.
            case building
            /// This call took the claim: build, then publish with `epoch`.
            case claimed
            /// Nobody holds it: claim it.
            case free
        }

        public var state: State
        public var epoch: Int64
        public var claimedBy: String
        public var digest: String
        public var publishedRef: String
        public var error: String
        public var failedUntil: Double
    }

    private let link: FleetLink
    private let hostID: String
    private let timeoutMilliseconds: UInt64
    private var watchers: [String: [UInt64: () -> Void]] = [:]
    private var nextWatcher: UInt64 = 0

    public init(link: FleetLink, hostID: String, timeoutMilliseconds: UInt64) {
        self.link = link
        self.hostID = hostID
        self.timeoutMilliseconds = timeoutMilliseconds
        link.listen(to: FleetBuildSQL.channel) { [unowned self] key in
            for hear in watchers[key]?.values.map({ $0 }) ?? [] { hear() }
        }
    }

    public typealias Done<Value> = (Result<Value, PostgresFailure>) -> Void

    public func claim(key: String, image: String, now: Double, ttlSeconds: Double, _ done: @escaping Done<Row>) {
        ask(PostgresStatement(
            "SELECT * FROM sidecar_claim_build($1, $2, $3, $4, $5)", [key, image, hostID, "\(now)", "\(ttlSeconds)"]), done) {
            $0.map { .success(Self.row($0)) } ?? .failure(.unavailable("sidecar_claim_build answered no row"))
        }
    }

    /// The row now; nil when no host ever asked for the key.
    public func read(key: String, now: Double, _ done: @escaping Done<Row?>) {
        ask(PostgresStatement(FleetBuildSQL.readStatement, [key, "\(now)"]), done) { .success($0.map(Self.row)) }
    }

    /// True while the claim is still this host's.
    public func renew(key: String, epoch: Int64, now: Double, ttlSeconds: Double, _ done: @escaping Done<Bool>) {
        flag(PostgresStatement("SELECT sidecar_renew_build($1, $2, $3, $4)", [key, "\(epoch)", "\(now)", "\(ttlSeconds)"]), done)
    }

    /// Publishes `digest` at `ref` for the claim of `epoch`; false when the
    /// claim was lost (nothing changed).
    public func publish(key: String, epoch: Int64, digest: String, ref: String, now: Double, _ done: @escaping Done<Bool>) {
        flag(PostgresStatement(
            "SELECT sidecar_finish_build($1, $2, $3, $4, '', 0, $5)", [key, "\(epoch)", digest, ref, "\(now)"]), done)
    }

    /// Records the claim's failure, shared by every host until `until`.
    public func fail(key: String, epoch: Int64, error: String, until: Double, now: Double, _ done: @escaping Done<Bool>) {
        flag(PostgresStatement(
            "SELECT sidecar_finish_build($1, $2, '', '', $3, $4, $5)", [key, "\(epoch)", error, "\(until)", "\(now)"]), done)
    }

    /// Calls `hear` whenever another host (or this one) changes `key`, until
    /// `stopWatching` with the token.
    public func watch(key: String, _ hear: @escaping () -> Void) -> UInt64 {
        nextWatcher += 1
        watchers[key, default: [:]][nextWatcher] = hear
        return nextWatcher
    }

    public func stopWatching(key: String, token: UInt64) {
        watchers[key]?[token] = nil
        if watchers[key]?.isEmpty == true { watchers[key] = nil }
    }

    /// One statement as its own transaction; `answer` reads its first row
    /// (nil when it returned none).
    private func ask<Value>(
        _ statement: PostgresStatement, _ done: @escaping Done<Value>,
        _ answer: @escaping ([String?]?) -> Result<Value, PostgresFailure>
    ) {
        link.connection.run([statement], within: timeoutMilliseconds) { result in
            done(result.flatMap { answer($0[0].rows.first) })
        }
    }

    private func flag(_ statement: PostgresStatement, _ done: @escaping Done<Bool>) {
        ask(statement, done) { .success(($0?.first ?? nil) == "t") }
    }

    static func row(_ values: [String?]) -> Row {
        Row(
            state: Row.State(rawValue: values[0] ?? "") ?? .free, epoch: Int64(values[1] ?? "") ?? 0,
            claimedBy: values[2] ?? "", digest: values[3] ?? "", publishedRef: values[4] ?? "", error: values[5] ?? "",
            failedUntil: Double(values[6] ?? "") ?? 0)
    }
}
