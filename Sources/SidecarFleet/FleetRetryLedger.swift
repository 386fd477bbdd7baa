import SidecarCore
import SidecarPostgres

/// The retry ledger every host shares, in PostgreSQL. Changes asked for in
/// one loop turn go as one transaction (one round trip, one commit: the
/// fleet's group commit), in key order, so two hosts' transactions always
/// lock rows in the same order and never deadlock. Each call is answered
/// only after that transaction commits.
public final class FleetRetryLedger {
    public struct Settings: Sendable, Equatable {
        public var hostID: String
        public var budget: RetryBudget
        public var maxKeys: Int
        public var attemptTimeoutSeconds: Double
        /// A batch with no answer by then drops the connection.
        public var timeoutMilliseconds: UInt64

        public init(hostID: String, budget: RetryBudget, maxKeys: Int, attemptTimeoutSeconds: Double, timeoutMilliseconds: UInt64) {
            self.hostID = hostID
            self.budget = budget
            self.maxKeys = maxKeys
            self.attemptTimeoutSeconds = attemptTimeoutSeconds
            self.timeoutMilliseconds = timeoutMilliseconds
        }
    }

    public enum Failure: Error, Sendable, Equatable {
        /// The ledger's own refusal, as the local ledger gives it.
        case rule(RetryLedgerError)
        /// No answer from PostgreSQL: the change may or may not have been made.
        case unavailable(String)
    }

    public typealias Done<Value> = (Result<Value, Failure>) -> Void

    public var settings: Settings
    private let connection: PostgresConnection
    private var committing = false
    private var pending: [(key: String, statement: PostgresStatement, reply: (Result<PostgresRows, Failure>) -> Void)] = []

    public init(connection: PostgresConnection, settings: Settings) {
        self.connection = connection
        self.settings = settings
    }

    // MARK: Changes

    /// `verdict`: the classification of `lastError` (the daemon's, as for
    /// the local ledger); `jitter` in [0, 1).
    public func reserve(
        key: String, policyName: String, policy: RetryPolicy, lastError: String, verdict: Classification,
        jitter: Double, now: Double, caller: Caller, _ done: @escaping Done<RetryDecision>
    ) {
        let statement = PostgresStatement(
            "SELECT * FROM sidecar_reserve($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
            [
                key, policyName, "\(policy.maxAttempts)", "\(policy.baseDelaySeconds)", "\(policy.maxDelaySeconds)",
                "\(jitter)", lastError, verdict.permanent ? "t" : "f", verdict.category, verdict.remedy, "\(now)",
                "\(caller.uid)", caller.isAdmin ? "t" : "f", "\(settings.maxKeys)", "\(settings.budget.percent)",
                "\(settings.budget.minConcurrency)", "\(settings.attemptTimeoutSeconds)", settings.hostID,
            ])
        let maxKeys = settings.maxKeys
        enqueue(key: key, statement) { result in
            done(result.flatMap { rows in
                guard let row = rows.rows.first, row.count == 10 else { return .failure(.unavailable("sidecar_reserve answered no row")) }
                return Self.decision(row, key: key, caller: caller, maxKeys: maxKeys)
            })
        }
    }

    static func decision(_ row: [String?], key: String, caller: Caller, maxKeys: Int) -> Result<RetryDecision, Failure> {
        let attempts = Int(row[1] ?? "") ?? 0
        let double = { (index: Int) in Double(row[index] ?? "") ?? 0 }
        switch row[0] ?? "" {
        case "granted": return .success(.granted(attempt: attempts, delaySeconds: double(2), notBefore: double(3)))
        case "denied_permanent": return .success(.deniedPermanent(category: row[4] ?? "", remedy: row[5] ?? ""))
        case "exhausted": return .success(.exhausted(attempts: attempts, firstError: row[6] ?? "", lastError: row[7] ?? ""))
        case "throttled": return .success(.throttled(retryAfterSeconds: double(9)))
        case "full": return .failure(.rule(.full(maxKeys: maxKeys)))
        case "not_owner": return .failure(notOwner(key, owner: row[8], caller: caller))
        case let other: return .failure(.unavailable("sidecar_reserve answered \"\(other)\""))
        }
    }

    /// The ledger's refusal of `caller` for a key `owner` (as SQL text) holds.
    static func notOwner(_ key: String, owner: String?, caller: Caller) -> Failure {
        .rule(.notOwner(NotOwnerError(what: "retry key \"\(key)\"", owner: UInt32(owner ?? "") ?? 0, caller: caller.uid)))
    }

    /// True when the record changed (false: the same outcome told twice).
    public func complete(key: String, success: Bool, error: String, now: Double, caller: Caller, _ done: @escaping Done<Bool>) {
        let statement = PostgresStatement(
            "SELECT * FROM sidecar_complete($1, $2, $3, $4, $5, $6, $7)",
            [key, success ? "t" : "f", error, "\(now)", "\(caller.uid)", caller.isAdmin ? "t" : "f", settings.hostID])
        enqueue(key: key, statement) { result in
            done(result.flatMap { rows in
                switch rows.rows.first?.first ?? nil {
                case "changed": return .success(true)
                case "unchanged": return .success(false)
                case "unknown": return .failure(.rule(.unknownKey(key)))
                case "not_owner": return .failure(Self.notOwner(key, owner: rows.rows.first?[1] ?? nil, caller: caller))
                default: return .failure(.unavailable("sidecar_complete answered no outcome"))
                }
            })
        }
    }

    /// False when the key was not known.
    public func reset(key: String, _ done: @escaping Done<Bool>) {
        enqueue(key: key, PostgresStatement("SELECT sidecar_reset($1, $2)", [key, settings.hostID])) { result in
            done(result.map { ($0.rows.first?.first ?? nil) == "t" })
        }
    }

    /// Removes idle keys (at most the rows no reserve holds right now), in
    /// a transaction of its own: it locks rows out of key order (skipping
    /// locked ones, so it never waits), which inside a batch of changes
    /// could deadlock with another host's.
    public func expire(now: Double, policies: [String: RetryPolicy], defaultIdleSeconds: Double, _ done: @escaping Done<Int>) {
        let named = policies.compactMap { name, policy in policy.keyIdleExpirySeconds.map { (name, $0) } }
        let statement = PostgresStatement(
            "SELECT sidecar_expire($1, $2, $3::text[], $4::float8[], $5)",
            ["\(now)", "\(defaultIdleSeconds)", Self.array(named.map(\.0)), Self.array(named.map { "\($0.1)" }), settings.hostID])
        read(statement, done) { rows in Int((rows.first?.first ?? nil) ?? "") ?? 0 }
    }

    /// Adds a record this host's own ledger made while the fleet was away
    /// (see `sidecar_merge`).
    public func merge(_ record: RetryRecord, _ done: @escaping Done<Void>) {
        let statement = PostgresStatement(
            "SELECT sidecar_merge($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            [
                record.key, record.policy, record.state.rawValue, "\(record.attempts)", record.inFlightSince.map { "\($0)" },
                record.firstError, record.lastError, record.category, record.remedy, "\(record.notBefore)",
                "\(record.createdAt)", "\(record.updatedAt)", record.ownerUID.map { "\($0)" }, settings.hostID,
            ])
        enqueue(key: record.key, statement) { done($0.map { _ in () }) }
    }

    /// Sends what this turn asked for as one transaction (called once per
    /// loop turn, like the local ledger's group commit). While one is in
    /// flight the next gathers: one commit (one fsync on the server) per
    /// round trip, however many calls came in meanwhile.
    public func flush() {
        guard !pending.isEmpty, !committing else { return }
        // Stable: two changes of one key keep their order.
        let batch = pending.enumerated().sorted { ($0.element.key, $0.offset) < ($1.element.key, $1.offset) }.map(\.element)
        pending.removeAll(keepingCapacity: true)
        committing = true
        connection.run(batch.map(\.statement), within: settings.timeoutMilliseconds) { [weak self] result in
            self?.committing = false
            defer { self?.flush() }
            switch result {
            case .success(let rows):
                for (index, entry) in batch.enumerated() { entry.reply(.success(rows[index])) }
            case .failure(let failure):
                for entry in batch { entry.reply(.failure(.unavailable(Self.describe(failure)))) }
            }
        }
    }

    private func enqueue(key: String, _ statement: PostgresStatement, _ reply: @escaping (Result<PostgresRows, Failure>) -> Void) {
        pending.append((key, statement, reply))
    }

    // MARK: Reading

    /// One page of the keys `caller` may read, in key order, read outside
    /// any change's transaction.
    public func page(
        _ request: PageRequest, byteBudget: Int, visibleTo caller: Caller, state: RetryRecord.State?, keyPrefix: String,
        bytes: @escaping (RetryRecord) -> Int, _ done: @escaping Done<Page<RetryRecord>>
    ) {
        let statement = PostgresStatement(
            """
            SELECT \(RetryRecord.columnNames.joined(separator: ", ")) FROM sidecar_retry_keys
            WHERE ($1::text IS NULL OR key > $1) AND ($2 = '' OR state = $2) AND ($3 = '' OR starts_with(key, $3))
              AND ($4 OR owner_uid IS NULL OR owner_uid = $5)
            ORDER BY key LIMIT $6
            """,
            [request.after, state?.rawValue ?? "", keyPrefix, caller.isAdmin ? "t" : "f", "\(caller.uid)", "\(request.size + 1)"])
        read(statement, done) { rows in
            rows.map(RetryRecord.init(columns:))
                .page(PageRequest(size: request.size, method: request.method), byteBudget: byteBudget, key: \.key, bytes: bytes)
        }
    }

    /// How many keys are in each state, fleet-wide.
    public func countsByState(_ done: @escaping Done<[String: Int]>) {
        read(PostgresStatement("SELECT state, count(*) FROM sidecar_retry_keys GROUP BY state"), done) { rows in
            var counts: [String: Int] = [:]
            for row in rows { counts[row[0] ?? ""] = Int(row[1] ?? "") ?? 0 }
            return counts
        }
    }

    /// One statement in a transaction of its own, outside the batches.
    private func read<Value>(_ statement: PostgresStatement, _ done: @escaping Done<Value>, _ answer: @escaping ([[String?]]) -> Value) {
        connection.run([statement], within: settings.timeoutMilliseconds) { result in
            done(result.map { answer($0[0].rows) }.mapError { .unavailable(Self.describe($0)) })
        }
    }

    /// PostgreSQL's array literal of `values`, each quoted.
    static func array(_ values: [String]) -> String {
        let quoted = values.map { value in
            var text = "\""
            for character in value {
                if character == "\\" || character == "\"" { text.append("\\") }
                text.append(character)
            }
            return text + "\""
        }
        return "{" + quoted.joined(separator: ",") + "}"
    }

    static func describe(_ failure: PostgresFailure) -> String {
        switch failure {
        case .unavailable(let reason): reason
        case .statement: "PostgreSQL refused the retry ledger's change: \(failure)"
        }
    }
}
