import SidecarCore
import SidecarWire

/// The one routing table: every method of sidecar.v1.Sidecar (and the Debug
/// service), a line each, from its descriptor to the service that answers
/// it. Requests are read into the services' own arguments here, and their
/// answers put into the response types here; the descriptors bind each
/// line's types to the client's. A test checks the table against the schema.
enum ServiceRoutes {
    typealias M = SidecarMethods

    static func table(
        status: DaemonStatus, reloader: ConfigReloader, retries: RetryService, databases: DatabaseService, images: ImageService
    ) -> [MethodSpec] {
        let (context, leases, checks) = (status.context, images.leases, databases.coordinator)
        return [
            .inPlace(M.health) { payload, reply in status.answerHealth(payload, into: reply) },
            .inPlace(M.classify) { payload, reply in context.classifyTable.answer(payload, into: reply) },
            .unary(M.listRules) { _, _ in ListRulesResponse(rules: context.classifier.rules.map(ListedRule.init)) },
            .unary(M.metrics) { _, _ in MetricsResponse(text: status.metricsText()) },
            .deferred(M.watch) { reply, r in reply.onCancel(context.events.watch(topics: r.topics, reply)) },
            .deferred(M.reload) { reply, _ in reloader.reload(reply.finish) },

            .deferred(M.ensureImage, answeringAtOnce: { payload, reply in images.answerIfPresent(payload, into: reply) }) { reply, r in
                reply.onCancel(
                    try images.ensure(
                        image: r.image, leaseHolder: r.leaseHolder, leaseTTLSeconds: r.leaseTTLSeconds,
                        leaseHolderProcess: r.leaseHolderProcess, caller: reply.caller
                    ) { reply.finish($0.map(EnsureImageResponse.init(answer:))) })
            },
            .unary(M.listImages) { _, r in
                ListImagesResponse(try images.list().page(PageRequest(r, M.listImages), byteBudget: status.pageBudget, key: \.name, bytes: \.wireSizeBound))
            },
            .deferred(M.prune) { reply, r in try images.prune(dryRun: r.dryRun, caller: reply.caller) { reply.respond(PruneResponse(report: $0)) } },
            .deferred(M.scrub) { reply, _ in images.scrub(by: "\(reply.caller)") { reply.finish($0.map(ScrubResponse.init(report:))) } },
            .unary(M.acquireLease) { caller, r in
                try leases.acquire(target: r.target, holder: r.holder, holderProcess: r.holderProcess, ttlSeconds: r.ttlSeconds, caller: caller)
            },
            .unary(M.releaseLease) { caller, r in try leases.release(id: r.id, caller: caller) },
            .unary(M.listLeases) { caller, r in
                ListLeasesResponse(leases.live(visibleTo: caller).page(
                    try PageRequest(r, M.listLeases), byteBudget: status.pageBudget, key: \.id, bytes: \.wireSizeBound))
            },

            .deferred(M.checkDb) { reply, r in
                checks.check(path: r.path, mode: r.mode, maxErrors: Int(r.maxErrors), caller: reply.caller, reply.finish)
            },
            .deferred(M.reportDbError) { reply, r in
                checks.report(
                    path: r.path, clientID: r.clientID, message: r.message, sqliteCode: r.sqliteCode, ok: r.ok, caller: reply.caller,
                    reply.finish)
            },

            .deferred(M.reserveRetrySlot) { reply, r in
                try retries.reserve(
                    key: r.key, policy: r.policy, lastError: r.lastError, exitCode: r.exitCode, image: r.image, caller: reply.caller,
                    reply.finish)
            },
            .deferred(M.completeAttempt) { reply, r in
                try retries.complete(key: r.key, success: r.success, error: r.error, caller: reply.caller, reply.finish)
            },
            .unary(M.listPolicies) { _, _ in ListPoliciesResponse(policies: retries.ledger.policies) },
            .deferred(M.listRetries) { reply, r in
                try retries.list(
                    state: r.state, keyPrefix: r.keyPrefix, visibleTo: reply.caller, page: try PageRequest(r, M.listRetries),
                    byteBudget: status.pageBudget
                ) { reply.finish($0.map { ListRetriesResponse($0) }) }
            },
            .deferred(M.resetRetry) { reply, r in try retries.reset(key: r.key, by: reply.caller, reply.finish) },

            .deferred(M.debugSleep) { reply, r in try status.debugSleep(milliseconds: r.milliseconds, reply) },
        ]
    }
}
