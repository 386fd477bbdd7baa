import SidecarCore
import SidecarProtoC

public struct ReserveRetrySlotRequest: WireMessage, Equatable {
    public var key: String
    public var policy: String
    public var lastError: String
    public var exitCode: Int32?

    public init(key: String, policy: String = "", lastError: String, exitCode: Int32? = nil) {
        self.key = key
        self.policy = policy
        self.lastError = lastError
        self.exitCode = exitCode
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "ReserveRetrySlotRequest",
            unpack: { sidecar__v1__reserve_retry_slot_request__unpack(nil, $0, $1) },
            free: { sidecar__v1__reserve_retry_slot_request__free_unpacked($0, nil) }
        ) { c in
            ReserveRetrySlotRequest(
                key: ProtobufCField.string(c.key), policy: ProtobufCField.string(c.policy),
                lastError: ProtobufCField.string(c.last_error),
                exitCode: c.optional_exit_code_case == SIDECAR__V1__RESERVE_RETRY_SLOT_REQUEST__OPTIONAL_EXIT_CODE_EXIT_CODE
                    ? c.exit_code : nil)
        }
    }

    package func wireBytes() -> [UInt8] {
        let arena = PackArena()
        var c = Sidecar__V1__ReserveRetrySlotRequest()
        sidecar__v1__reserve_retry_slot_request__init(&c)
        c.key = arena.string(key)
        c.policy = arena.string(policy)
        c.last_error = arena.string(lastError)
        if let exitCode {
            c.optional_exit_code_case = SIDECAR__V1__RESERVE_RETRY_SLOT_REQUEST__OPTIONAL_EXIT_CODE_EXIT_CODE
            c.exit_code = exitCode
        }
        return withExtendedLifetime(arena) {
            ProtobufCField.pack(
                &c, size: { sidecar__v1__reserve_retry_slot_request__get_packed_size($0) },
                pack: { sidecar__v1__reserve_retry_slot_request__pack($0, $1) })
        }
    }
}

public struct ReserveRetrySlotResponse: WireMessage, Equatable {
    public var decision: RetryDecision

    public init(decision: RetryDecision) {
        self.decision = decision
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "ReserveRetrySlotResponse",
            unpack: { sidecar__v1__reserve_retry_slot_response__unpack(nil, $0, $1) },
            free: { sidecar__v1__reserve_retry_slot_response__free_unpacked($0, nil) }
        ) { c in
            let decision: RetryDecision
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
            return ReserveRetrySlotResponse(decision: decision)
        }
    }

    package func wireBytes() -> [UInt8] {
        let arena = PackArena()
        var c = Sidecar__V1__ReserveRetrySlotResponse()
        sidecar__v1__reserve_retry_slot_response__init(&c)
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
        return withExtendedLifetime(arena) {
            ProtobufCField.pack(
                &c, size: { sidecar__v1__reserve_retry_slot_response__get_packed_size($0) },
                pack: { sidecar__v1__reserve_retry_slot_response__pack($0, $1) })
        }
    }
}

public struct CompleteAttemptRequest: WireMessage, Equatable {
    public var key: String
    public var success: Bool
    public var error: String

    public init(key: String, success: Bool, error: String = "") {
        self.key = key
        self.success = success
        self.error = error
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "CompleteAttemptRequest",
            unpack: { sidecar__v1__complete_attempt_request__unpack(nil, $0, $1) },
            free: { sidecar__v1__complete_attempt_request__free_unpacked($0, nil) }
        ) { c in
            CompleteAttemptRequest(key: ProtobufCField.string(c.key), success: c.success != 0, error: ProtobufCField.string(c.error))
        }
    }

    package func wireBytes() -> [UInt8] {
        let arena = PackArena()
        var c = Sidecar__V1__CompleteAttemptRequest()
        sidecar__v1__complete_attempt_request__init(&c)
        c.key = arena.string(key)
        c.success = success ? 1 : 0
        c.error = arena.string(error)
        return withExtendedLifetime(arena) {
            ProtobufCField.pack(
                &c, size: { sidecar__v1__complete_attempt_request__get_packed_size($0) },
                pack: { sidecar__v1__complete_attempt_request__pack($0, $1) })
        }
    }
}

/// An empty answer: CompleteAttempt, ResetRetry and ReleaseLease say nothing but OK.
public struct EmptyResponse: WireMessage, Equatable {
    public init() {}
    package init(wireBytes: UnsafeRawBufferPointer) throws {}
    package func wireBytes() -> [UInt8] { [] }
}

public struct ListRetriesRequest: WireMessage, Equatable {
    public var state: String
    public var keyPrefix: String

    public init(state: String = "", keyPrefix: String = "") {
        self.state = state
        self.keyPrefix = keyPrefix
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "ListRetriesRequest",
            unpack: { sidecar__v1__list_retries_request__unpack(nil, $0, $1) },
            free: { sidecar__v1__list_retries_request__free_unpacked($0, nil) }
        ) { c in ListRetriesRequest(state: ProtobufCField.string(c.state), keyPrefix: ProtobufCField.string(c.key_prefix)) }
    }

    package func wireBytes() -> [UInt8] {
        let arena = PackArena()
        var c = Sidecar__V1__ListRetriesRequest()
        sidecar__v1__list_retries_request__init(&c)
        c.state = arena.string(state)
        c.key_prefix = arena.string(keyPrefix)
        return withExtendedLifetime(arena) {
            ProtobufCField.pack(
                &c, size: { sidecar__v1__list_retries_request__get_packed_size($0) },
                pack: { sidecar__v1__list_retries_request__pack($0, $1) })
        }
    }
}

public struct ListRetriesResponse: WireMessage, Equatable {
    public var retries: [RetryRecord]

    public init(retries: [RetryRecord]) {
        self.retries = retries
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "ListRetriesResponse",
            unpack: { sidecar__v1__list_retries_response__unpack(nil, $0, $1) },
            free: { sidecar__v1__list_retries_response__free_unpacked($0, nil) }
        ) { c in
            var retries: [RetryRecord] = []
            for index in 0..<c.n_retries {
                guard let info = c.retries[index]?.pointee else { continue }
                var record = RetryRecord(
                    key: ProtobufCField.string(info.key), policy: ProtobufCField.string(info.policy),
                    now: Double(info.updated_unix_ms) / 1000)
                record.state = RetryRecord.State(rawValue: ProtobufCField.string(info.state)) ?? .active
                record.attempts = Int(info.attempts)
                record.firstError = ProtobufCField.string(info.first_error)
                record.lastError = ProtobufCField.string(info.last_error)
                record.category = ProtobufCField.string(info.category)
                record.remedy = ProtobufCField.string(info.remedy)
                record.notBefore = Double(info.not_before_unix_ms) / 1000
                record.inFlightSince = info.in_flight != 0 ? record.updatedAt : nil
                retries.append(record)
            }
            return ListRetriesResponse(retries: retries)
        }
    }

    package func wireBytes() -> [UInt8] {
        let arena = PackArena()
        var c = Sidecar__V1__ListRetriesResponse()
        sidecar__v1__list_retries_response__init(&c)
        let infos = arena.array(of: Sidecar__V1__RetryInfo.self, count: retries.count)
        let pointers = arena.array(of: UnsafeMutablePointer<Sidecar__V1__RetryInfo>?.self, count: retries.count)
        for (index, record) in retries.enumerated() {
            sidecar__v1__retry_info__init(infos + index)
            infos[index].key = arena.string(record.key)
            infos[index].policy = arena.string(record.policy)
            infos[index].state = arena.string(record.state.rawValue)
            infos[index].attempts = UInt32(clamping: record.attempts)
            infos[index].first_error = arena.string(record.firstError)
            infos[index].last_error = arena.string(record.lastError)
            infos[index].updated_unix_ms = Int64(record.updatedAt * 1000)
            infos[index].category = arena.string(record.category)
            infos[index].remedy = arena.string(record.remedy)
            infos[index].not_before_unix_ms = Int64(record.notBefore * 1000)
            infos[index].in_flight = record.inFlightSince != nil ? 1 : 0
            pointers[index] = infos + index
        }
        c.n_retries = retries.count
        c.retries = retries.isEmpty ? nil : pointers
        return withExtendedLifetime(arena) {
            ProtobufCField.pack(
                &c, size: { sidecar__v1__list_retries_response__get_packed_size($0) },
                pack: { sidecar__v1__list_retries_response__pack($0, $1) })
        }
    }
}

public struct ResetRetryRequest: WireMessage, Equatable {
    public var key: String

    public init(key: String) {
        self.key = key
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "ResetRetryRequest",
            unpack: { sidecar__v1__reset_retry_request__unpack(nil, $0, $1) },
            free: { sidecar__v1__reset_retry_request__free_unpacked($0, nil) }
        ) { c in ResetRetryRequest(key: ProtobufCField.string(c.key)) }
    }

    package func wireBytes() -> [UInt8] {
        let arena = PackArena()
        var c = Sidecar__V1__ResetRetryRequest()
        sidecar__v1__reset_retry_request__init(&c)
        c.key = arena.string(key)
        return withExtendedLifetime(arena) {
            ProtobufCField.pack(
                &c, size: { sidecar__v1__reset_retry_request__get_packed_size($0) },
                pack: { sidecar__v1__reset_retry_request__pack($0, $1) })
        }
    }
}
