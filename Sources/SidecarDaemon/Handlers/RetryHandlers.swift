import SidecarWire

/// ReserveRetrySlot, CompleteAttempt, ListRetries and ResetRetry (admin).
enum RetryHandlers {
    static func specs(retries: RetryService) -> [MethodSpec] {
        [
            .deferred("ReserveRetrySlot") { (call, request: ReserveRetrySlotRequest) in
                try retries.reserve(request, for: call)
            },
            .deferred("CompleteAttempt") { (call, request: CompleteAttemptRequest) in
                try retries.complete(request, for: call)
            },
            .unary("ListRetries") { (_, request: ListRetriesRequest) in try retries.list(request) },
            .deferred("ResetRetry", admin: true) { (call, request: ResetRetryRequest) in
                try retries.reset(request, for: call)
            },
        ]
    }
}
