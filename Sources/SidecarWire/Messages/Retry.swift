import SidecarCore
import SidecarProtoC

public struct ReserveRetrySlotRequest: Equatable, Sendable {
    public var key: String
    public var policy: String
    public var lastError: String
    public var exitCode: Int32?
    /// The reference the failed operation used: a denial's remedy names it.
    public var image: String

    public init(key: String, policy: String = "", lastError: String, exitCode: Int32? = nil, image: String = "") {
        self.key = key
        self.policy = policy
        self.lastError = lastError
        self.exitCode = exitCode
        self.image = image
    }
}

extension ReserveRetrySlotRequest: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ReserveRetrySlotRequest>) {
        sidecar__v1__reserve_retry_slot_request__init(c)
    }

    package init(reading c: Sidecar__V1__ReserveRetrySlotRequest) {
        self.init(
            key: ProtobufCField.string(c.key), policy: ProtobufCField.string(c.policy),
            lastError: ProtobufCField.string(c.last_error),
            exitCode: c.optional_exit_code_case == SIDECAR__V1__RESERVE_RETRY_SLOT_REQUEST__OPTIONAL_EXIT_CODE_EXIT_CODE
                ? c.exit_code : nil,
            image: ProtobufCField.string(c.image))
    }

    package func fill(_ c: inout Sidecar__V1__ReserveRetrySlotRequest, arena: PackArena) {
        c.key = arena.string(key)
        c.policy = arena.string(policy)
        c.last_error = arena.string(lastError)
        if let exitCode {
            c.optional_exit_code_case = SIDECAR__V1__RESERVE_RETRY_SLOT_REQUEST__OPTIONAL_EXIT_CODE_EXIT_CODE
            c.exit_code = exitCode
        }
        c.image = arena.string(image)
    }

    /// By hand: every reserve starts here, and protobuf-c's generic unpack
    /// with its C strings copied into Strings was a tenth of one. Tests and
    /// the fuzzer hold it to protobuf-c's reading.
    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self.init(key: "", lastError: "")
        var reader = ProtobufWire.Reader(wireBytes)
        do {
            while !reader.isAtEnd {
                let tag = try reader.tag()
                switch tag {
                case 0x0a: key = try Self.string(&reader, "key")
                case 0x12: policy = try Self.string(&reader, "policy")
                case 0x1a: lastError = try Self.string(&reader, "last_error")
                case 0x20: exitCode = Int32(truncatingIfNeeded: try reader.varint())
                case 0x2a: image = try Self.string(&reader, "image")
                default: try reader.skipField(tag: tag, knownNumbers: 1...5, of: "ReserveRetrySlotRequest")
                }
            }
        } catch let error as WireDecodingError {
            throw WireDecodingError("malformed ReserveRetrySlotRequest message (\(wireBytes.count) bytes): \(error)")
        }
    }

    private static func string(_ reader: inout ProtobufWire.Reader, _ field: StaticString) throws -> String {
        let bytes = try reader.lengthDelimited()
        try ProtobufText.check(bytes, field: "field \(field) of sidecar.v1.ReserveRetrySlotRequest")
        return String(decoding: bytes, as: UTF8.self)
    }
}

public struct ReserveRetrySlotResponse: Equatable, Sendable {
    public var decision: RetryDecision
    /// Fleet mode: this host decided alone, the fleet being unreachable.
    public var answeredLocally: Bool

    public init(decision: RetryDecision, answeredLocally: Bool = false) {
        self.decision = decision
        self.answeredLocally = answeredLocally
    }
}

extension ReserveRetrySlotResponse: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ReserveRetrySlotResponse>) {
        sidecar__v1__reserve_retry_slot_response__init(c)
    }

    package init(reading c: Sidecar__V1__ReserveRetrySlotResponse) throws {
        switch c.decision {
        case SIDECAR__V1__RESERVE_RETRY_SLOT_RESPONSE__DECISION__GRANTED:
            decision = .granted(
                attempt: Int(c.attempt), delaySeconds: c.delay_seconds, notBefore: Double(c.not_before_unix_ms) / 1000)
        case SIDECAR__V1__RESERVE_RETRY_SLOT_RESPONSE__DECISION__DENIED_PERMANENT:
            decision = .deniedPermanent(category: ProtobufCField.string(c.category), remedy: ProtobufCField.string(c.remedy))
        case SIDECAR__V1__RESERVE_RETRY_SLOT_RESPONSE__DECISION__EXHAUSTED:
            decision = .exhausted(
                attempts: Int(c.attempts), firstError: ProtobufCField.string(c.first_error),
                lastError: ProtobufCField.string(c.last_error))
        case SIDECAR__V1__RESERVE_RETRY_SLOT_RESPONSE__DECISION__THROTTLED:
            decision = .throttled(retryAfterSeconds: c.retry_after_seconds)
        default:
            throw WireDecodingError("ReserveRetrySlotResponse has no decision")
        }
        answeredLocally = c.answered_locally != 0
    }

    package func fill(_ c: inout Sidecar__V1__ReserveRetrySlotResponse, arena: PackArena) {
        switch decision {
        case .granted(let attempt, let delay, let notBefore):
            c.decision = SIDECAR__V1__RESERVE_RETRY_SLOT_RESPONSE__DECISION__GRANTED
            c.attempt = UInt32(clamping: attempt)
            c.delay_seconds = delay
            c.not_before_unix_ms = Int64(notBefore * 1000)
        case .deniedPermanent(let category, let remedy):
            c.decision = SIDECAR__V1__RESERVE_RETRY_SLOT_RESPONSE__DECISION__DENIED_PERMANENT
            c.category = arena.string(category)
            c.remedy = arena.string(remedy)
        case .exhausted(let attempts, let firstError, let lastError):
            c.decision = SIDECAR__V1__RESERVE_RETRY_SLOT_RESPONSE__DECISION__EXHAUSTED
            c.attempts = UInt32(clamping: attempts)
            c.first_error = arena.string(firstError)
            c.last_error = arena.string(lastError)
        case .throttled(let retryAfter):
            c.decision = SIDECAR__V1__RESERVE_RETRY_SLOT_RESPONSE__DECISION__THROTTLED
            c.retry_after_seconds = retryAfter
        }
        c.answered_locally = answeredLocally ? 1 : 0
    }

    package func wireBytes() -> [UInt8] {
        let writer = ProtobufWriter(capacity: 64)
        encode(into: writer)
        return writer.bytes
    }

    /// By hand, in field order, as `fill` puts it for protobuf-c (a test
    /// holds the two byte-equal): every reserve's answer is written here,
    /// and protobuf-c's packing was a fifth of the call.
    package func encode(into writer: ProtobufWriter) {
        switch decision {
        case .granted(let attempt, let delay, let notBefore):
            writer.uint32(1, UInt32(SIDECAR__V1__RESERVE_RETRY_SLOT_RESPONSE__DECISION__GRANTED.rawValue))
            writer.uint32(2, UInt32(clamping: attempt))
            writer.double(3, delay)
            writer.int64(4, Int64(notBefore * 1000))
        case .deniedPermanent(let category, let remedy):
            writer.uint32(1, UInt32(SIDECAR__V1__RESERVE_RETRY_SLOT_RESPONSE__DECISION__DENIED_PERMANENT.rawValue))
            writer.string(5, category)
            writer.string(6, remedy)
        case .exhausted(let attempts, let firstError, let lastError):
            writer.uint32(1, UInt32(SIDECAR__V1__RESERVE_RETRY_SLOT_RESPONSE__DECISION__EXHAUSTED.rawValue))
            writer.uint32(7, UInt32(clamping: attempts))
            writer.string(8, firstError)
            writer.string(9, lastError)
        case .throttled(let retryAfter):
            writer.uint32(1, UInt32(SIDECAR__V1__RESERVE_RETRY_SLOT_RESPONSE__DECISION__THROTTLED.rawValue))
            writer.double(10, retryAfter)
        }
        writer.bool(11, answeredLocally)
    }
}

public struct CompleteAttemptRequest: Equatable, Sendable {
    public var key: String
    public var success: Bool
    public var error: String

    public init(key: String, success: Bool, error: String = "") {
        self.key = key
        self.success = success
        self.error = error
    }
}

extension CompleteAttemptRequest: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__CompleteAttemptRequest>) {
        sidecar__v1__complete_attempt_request__init(c)
    }

    package init(reading c: Sidecar__V1__CompleteAttemptRequest) {
        self.init(key: ProtobufCField.string(c.key), success: c.success != 0, error: ProtobufCField.string(c.error))
    }

    package func fill(_ c: inout Sidecar__V1__CompleteAttemptRequest, arena: PackArena) {
        c.key = arena.string(key)
        c.success = success ? 1 : 0
        c.error = arena.string(error)
    }
}

public struct ListRetriesRequest: Equatable, Sendable {
    public var state: String
    public var keyPrefix: String
    /// 0: the daemon's default (1,000).
    public var pageSize: UInt32
    public var pageToken: String

    public init(state: String = "", keyPrefix: String = "", pageSize: UInt32 = 0, pageToken: String = "") {
        self.state = state
        self.keyPrefix = keyPrefix
        self.pageSize = pageSize
        self.pageToken = pageToken
    }
}

extension ListRetriesRequest: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ListRetriesRequest>) {
        sidecar__v1__list_retries_request__init(c)
    }

    package init(reading c: Sidecar__V1__ListRetriesRequest) {
        self.init(
            state: ProtobufCField.string(c.state), keyPrefix: ProtobufCField.string(c.key_prefix), pageSize: c.page_size,
            pageToken: ProtobufCField.string(c.page_token))
    }

    package func fill(_ c: inout Sidecar__V1__ListRetriesRequest, arena: PackArena) {
        c.state = arena.string(state)
        c.key_prefix = arena.string(keyPrefix)
        c.page_size = pageSize
        c.page_token = arena.string(pageToken)
    }
}

/// `RetryInfo`: one entry of ListRetriesResponse.
extension RetryRecord: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__RetryInfo>) { sidecar__v1__retry_info__init(c) }

    package init(reading c: Sidecar__V1__RetryInfo) {
        self.init(key: ProtobufCField.string(c.key), policy: ProtobufCField.string(c.policy), now: Double(c.updated_unix_ms) / 1000)
        state = State(rawValue: ProtobufCField.string(c.state)) ?? .active
        attempts = Int(c.attempts)
        firstError = ProtobufCField.string(c.first_error)
        lastError = ProtobufCField.string(c.last_error)
        category = ProtobufCField.string(c.category)
        remedy = ProtobufCField.string(c.remedy)
        notBefore = Double(c.not_before_unix_ms) / 1000
        inFlightSince = c.in_flight != 0 ? updatedAt : nil
        ownerUID = c.optional_owner_uid_case == SIDECAR__V1__RETRY_INFO__OPTIONAL_OWNER_UID_OWNER_UID ? c.owner_uid : nil
    }

    package func fill(_ c: inout Sidecar__V1__RetryInfo, arena: PackArena) {
        c.key = arena.string(key)
        c.policy = arena.string(policy)
        c.state = arena.string(state.rawValue)
        c.attempts = UInt32(clamping: attempts)
        c.first_error = arena.string(firstError)
        c.last_error = arena.string(lastError)
        c.updated_unix_ms = Int64(updatedAt * 1000)
        c.category = arena.string(category)
        c.remedy = arena.string(remedy)
        c.not_before_unix_ms = Int64(notBefore * 1000)
        c.in_flight = inFlightSince != nil ? 1 : 0
        if let ownerUID {
            c.optional_owner_uid_case = SIDECAR__V1__RETRY_INFO__OPTIONAL_OWNER_UID_OWNER_UID
            c.owner_uid = ownerUID
        }
    }
}

public struct ListRetriesResponse: Equatable, Sendable {
    public var retries: [RetryRecord]
    /// Empty on the last page.
    public var nextPageToken: String

    public init(retries: [RetryRecord], nextPageToken: String = "") {
        self.retries = retries
        self.nextPageToken = nextPageToken
    }
}

extension ListRetriesResponse: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ListRetriesResponse>) {
        sidecar__v1__list_retries_response__init(c)
    }

    package init(reading c: Sidecar__V1__ListRetriesResponse) throws {
        self.init(
            retries: try ProtobufCField.messages(c.retries, count: c.n_retries), nextPageToken: ProtobufCField.string(c.next_page_token))
    }

    package func fill(_ c: inout Sidecar__V1__ListRetriesResponse, arena: PackArena) {
        c.n_retries = retries.count
        c.retries = arena.messages(retries)
        c.next_page_token = arena.string(nextPageToken)
    }
}

public struct ResetRetryRequest: Equatable, Sendable {
    public var key: String

    public init(key: String) {
        self.key = key
    }
}

extension ResetRetryRequest: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ResetRetryRequest>) { sidecar__v1__reset_retry_request__init(c) }
    package init(reading c: Sidecar__V1__ResetRetryRequest) { self.init(key: ProtobufCField.string(c.key)) }
    package func fill(_ c: inout Sidecar__V1__ResetRetryRequest, arena: PackArena) { c.key = arena.string(key) }
}

public typealias ListPoliciesRequest = EmptyMessage

/// A retry policy with the name `[retry.policy.NAME]` gives it.
public struct NamedRetryPolicy: Equatable, Sendable {
    public var name: String
    public var policy: RetryPolicy

    public init(name: String, policy: RetryPolicy) {
        self.name = name
        self.policy = policy
    }
}

public struct ListPoliciesResponse: Equatable, Sendable {
    public var policies: [NamedRetryPolicy]

    public init(policies: [NamedRetryPolicy]) {
        self.policies = policies
    }

    /// The policies of a ledger, sorted by name.
    public init(policies: [String: RetryPolicy]) {
        self.init(policies: policies.sorted { $0.key < $1.key }.map { NamedRetryPolicy(name: $0.key, policy: $0.value) })
    }
}

extension NamedRetryPolicy: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__RetryPolicyInfo>) {
        sidecar__v1__retry_policy_info__init(c)
    }

    package init(reading c: Sidecar__V1__RetryPolicyInfo) {
        self.init(name: ProtobufCField.string(c.name), policy: RetryPolicy(
            maxAttempts: Int(c.max_attempts), baseDelaySeconds: c.base_delay_seconds, maxDelaySeconds: c.max_delay_seconds,
            keyIdleExpirySeconds: c.key_idle_expiry_seconds > 0 ? c.key_idle_expiry_seconds : nil))
    }

    package func fill(_ c: inout Sidecar__V1__RetryPolicyInfo, arena: PackArena) {
        c.name = arena.string(name)
        c.max_attempts = UInt32(clamping: policy.maxAttempts)
        c.base_delay_seconds = policy.baseDelaySeconds
        c.max_delay_seconds = policy.maxDelaySeconds
        c.key_idle_expiry_seconds = policy.keyIdleExpirySeconds ?? 0
    }
}

extension ListPoliciesResponse: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ListPoliciesResponse>) {
        sidecar__v1__list_policies_response__init(c)
    }

    package init(reading c: Sidecar__V1__ListPoliciesResponse) throws {
        self.init(policies: try ProtobufCField.messages(c.policies, count: c.n_policies))
    }

    package func fill(_ c: inout Sidecar__V1__ListPoliciesResponse, arena: PackArena) {
        c.n_policies = policies.count
        c.policies = arena.messages(policies)
    }
}
