import SidecarCore

/// Where each TOML key lands in `DaemonConfig`. Keys absent from the file
/// keep their defaults; keys nobody reads are rejected.
enum ConfigSchema {
    static func read(_ root: TOMLSection, into config: inout DaemonConfig) throws {
        if let socket = try root.string("socket") { config.socket = socket }
        if let stateDirectory = try root.string("state_dir") { config.stateDirectory = stateDirectory }
        if let logLevel = try root.string("log_level") {
            guard ConfigLoader.logLevels.contains(logLevel) else {
                throw root.error("log_level", "must be one of \(ConfigLoader.logLevels.joined(separator: ", ")), got \"\(logLevel)\"")
            }
            config.logLevel = logLevel
        }
        if let logFormat = try root.string("log_format") {
            guard ConfigLoader.logFormats.contains(logFormat) else {
                throw root.error("log_format", "must be one of \(ConfigLoader.logFormats.joined(separator: ", ")), got \"\(logFormat)\"")
            }
            config.logFormat = logFormat
        }
        if let mode = try socketMode(root) { config.socketMode = mode }
        if let uids = try root.unsignedInts("admin_uids") { config.adminUIDs = uids }
        if let gids = try root.unsignedInts("admin_gids") { config.adminGIDs = gids }
        if let debug = try root.bool("debug_methods") { config.debugMethods = debug }
        if let limits = try root.section("limits") { try readLimits(limits, into: &config.limits) }
        if let images = try root.section("images") { try readImages(images, into: &config.images) }
        if let databases = try root.section("databases") { try readDatabases(databases, into: &config.databases) }
        if let retry = try root.section("retry") { try readRetry(retry, into: &config.retry) }
        if let leases = try root.section("leases") {
            if let value = try leases.int("max", in: 1...10_000_000) { config.leases.max = value }
            if let value = try leases.string("holder_watch") {
                guard let watch = DaemonConfig.LeasesConfig.HolderWatch(rawValue: value) else {
                    let names = DaemonConfig.LeasesConfig.HolderWatch.allCases.map(\.rawValue).joined(separator: ", ")
                    throw leases.error("holder_watch", "must be one of \(names), got \"\(value)\"")
                }
                config.leases.holderWatch = watch
            }
            try leases.rejectUnknownKeys()
        }
        if let metrics = try root.section("metrics") {
            if let text = try metrics.string("listen") {
                guard let address = DaemonConfig.ListenAddress(parsing: text) else {
                    throw metrics.error("listen", "must be a numeric address and port like \"127.0.0.1:9464\" or \"[::1]:9464\", got \"\(text)\"")
                }
                config.metrics.listen = address
            }
            try metrics.rejectUnknownKeys()
        }
        if let fleet = try root.section("fleet") { try readFleet(fleet, into: &config.fleet) }
        if let classify = try root.section("classify") {
            config.classifyRules = try classify.sections("rule").enumerated().map(readRule)
            try classify.rejectUnknownKeys()
        }
        try root.rejectUnknownKeys()
    }

    /// `socket_mode = "0660"` or `socket_mode = 0o660`.
    private static func socketMode(_ root: TOMLSection) throws -> UInt32? {
        guard root.table["socket_mode"] != nil else { return nil }
        let parsed: UInt32?
        if let text = try? root.string("socket_mode") {
            parsed = UInt32(text, radix: 8)
        } else {
            parsed = try root.int("socket_mode", in: 0...0o777).map { UInt32($0) }
        }
        guard let mode = parsed, mode <= 0o777 else {
            throw root.error("socket_mode", "must be permission bits in octal, like \"0660\"")
        }
        guard mode & 0o600 == 0o600 else {
            throw root.error("socket_mode", "must let the owner read and write (0600 at least), got \(String(mode, radix: 8))")
        }
        return mode
    }

    private static func readLimits(_ section: TOMLSection, into limits: inout DaemonConfig.Limits) throws {
        if let value = try section.int("max_connections", in: 1...1_000_000) { limits.maxConnections = value }
        if let value = try section.int("max_inflight_per_connection", in: 1...1_000_000) {
            limits.maxInflightPerConnection = value
        }
        if let value = try section.int("max_message_bytes", in: 1024...(64 * 1024 * 1024)) { limits.maxMessageBytes = value }
        if let value = try section.duration("idle_timeout", allowZero: true) { limits.idleTimeoutSeconds = value }
        if let value = try section.duration("frame_timeout", allowZero: true) { limits.frameTimeoutSeconds = value }
        if let value = try section.int("max_buffered_bytes", in: 1024...(1 << 40)) { limits.maxBufferedBytes = value }
        if let value = try section.duration("drain_timeout", allowZero: true) { limits.drainTimeoutSeconds = value }
        try section.rejectUnknownKeys()
    }

    private static func readImages(_ section: TOMLSection, into images: inout DaemonConfig.ImagesConfig) throws {
        if let backend = try section.string("backend") {
            guard let parsed = DaemonConfig.ImagesConfig.Backend(rawValue: backend) else {
                let names = DaemonConfig.ImagesConfig.Backend.allCases.map { "\"\($0.rawValue)\"" }
                throw section.error("backend", "must be one of \(names.joined(separator: ", ")), got \"\(backend)\"")
            }
            images.backend = parsed
        }
        if let value = try section.string("docker_socket") { images.dockerSocket = value }
        if let value = try section.string("oci_layout") { images.ociLayout = value }
        if let value = try section.int("max_concurrent_builds", in: 1...1024) { images.maxConcurrentBuilds = value }
        if let value = try section.int("max_concurrent_pulls", in: 1...1024) { images.maxConcurrentPulls = value }
        if let value = try section.duration("job_timeout") { images.jobTimeoutSeconds = value }
        if let value = try section.duration("job_stall_timeout", allowZero: true) { images.jobStallTimeoutSeconds = value }
        if let value = try section.duration("failure_backoff") { images.failureBackoffSeconds = value }
        if let value = try section.duration("failure_backoff_max") { images.failureBackoffMaxSeconds = value }
        if let value = try section.duration("presence_ttl") { images.presenceTTLSeconds = value }
        if let value = try section.duration("prune_unused_after", allowZero: true) { images.pruneUnusedAfterSeconds = value }
        if let value = try section.duration("prune_every", allowZero: true) { images.pruneEverySeconds = value }
        if let value = try section.duration("scrub_every", allowZero: true) { images.scrubEverySeconds = value }
        if let value = try section.int("scrub_mb_per_second", in: 1...100_000) { images.scrubMegabytesPerSecond = value }
        if let value = try section.strings("insecure_registries") { images.insecureRegistries = value }
        if let command = try section.section("command") {
            if let argv = try command.strings("exists") { images.command.exists = argv }
            if let argv = try command.strings("build") { images.command.build = argv }
            if let argv = try command.strings("pull") { images.command.pull = argv }
            if let argv = try command.strings("remove") { images.command.remove = argv }
            if let argv = try command.strings("push") { images.command.push = argv }
            try command.rejectUnknownKeys()
        }
        images.images = try section.sections("image").map(readImage)
        try section.rejectUnknownKeys()
    }

    private static func readImage(_ section: TOMLSection) throws -> DaemonConfig.ImageSpec {
        guard let name = try section.string("name"), !name.isEmpty else {
            throw section.error("name", "every image needs a name")
        }
        var image = DaemonConfig.ImageSpec(name: name, ref: try section.string("ref") ?? "")
        if image.ref.isEmpty { throw section.error("ref", "image \"\(name)\" needs a ref") }
        if let argv = try section.strings("build") { image.build = argv }
        if let value = try section.string("workdir") { image.workdir = value }
        if let value = try section.string("context") { image.context = value }
        if let value = try section.string("dockerfile") { image.dockerfile = value }
        if let value = try section.string("base") { image.base = value }
        if let value = try section.string("pull") { image.pull = value }
        if let value = try section.bool("keep_warm") { image.keepWarm = value }
        if let value = try section.duration("job_timeout") { image.jobTimeoutSeconds = value }
        try section.rejectUnknownKeys()
        return image
    }

    private static func readDatabases(_ section: TOMLSection, into databases: inout DaemonConfig.DatabasesConfig) throws {
        if let roots = try section.strings("roots") {
            for (index, root) in roots.enumerated() where !root.hasPrefix("/") {
                throw section.error("roots", "element \(index) must be an absolute path, got \"\(root)\"")
            }
            databases.roots = roots
        }
        if let value = try section.int("streak_threshold", in: 1...1_000_000) { databases.streakThreshold = value }
        if let value = try section.int("max_concurrent_checks", in: 1...1024) { databases.maxConcurrentChecks = value }
        if let value = try section.duration("busy_timeout", allowZero: true) { databases.busyTimeoutSeconds = value }
        if let value = try section.duration("check_timeout") { databases.checkTimeoutSeconds = value }
        if let value = try section.duration("client_idle_expiry") { databases.clientIdleExpirySeconds = value }
        try section.rejectUnknownKeys()
    }

    private static func readRetry(_ section: TOMLSection, into retry: inout DaemonConfig.RetryConfig) throws {
        if let value = try section.number("budget_percent", in: 0...100) { retry.budgetPercent = value }
        if let value = try section.int("min_retry_concurrency", in: 0...1_000_000) { retry.minRetryConcurrency = value }
        if let value = try section.duration("key_idle_expiry") { retry.keyIdleExpirySeconds = value }
        if let value = try section.duration("attempt_timeout") { retry.attemptTimeoutSeconds = value }
        if let value = try section.int("max_keys", in: 1...100_000_000) { retry.maxKeys = value }
        if let value = try section.duration("commit_timeout") { retry.commitTimeoutSeconds = value }
        if let value = try section.string("synchronous") {
            guard ["normal", "full"].contains(value) else {
                throw section.error("synchronous", "must be \"normal\" or \"full\", got \"\(value)\"")
            }
            retry.synchronous = value
        }
        if let policies = try section.section("policy") {
            for (name, policySection) in try policies.namedSections() {
                var policy = retry.policies[name] ?? DaemonConfig.RetryPolicy()
                if let value = try policySection.int("max_attempts", in: 1...1_000_000) { policy.maxAttempts = value }
                if let value = try policySection.duration("base_delay", allowZero: true) { policy.baseDelaySeconds = value }
                if let value = try policySection.duration("max_delay", allowZero: true) { policy.maxDelaySeconds = value }
                if let value = try policySection.duration("key_idle_expiry") { policy.keyIdleExpirySeconds = value }
                if policy.maxDelaySeconds < policy.baseDelaySeconds {
                    throw policySection.error("max_delay", "must not be shorter than base_delay")
                }
                try policySection.rejectUnknownKeys()
                retry.policies[name] = policy
            }
        }
        try section.rejectUnknownKeys()
    }

    private static func readFleet(_ section: TOMLSection, into fleet: inout DaemonConfig.FleetConfig) throws {
        if let value = try section.string("postgres") { fleet.postgres = value }
        if let value = try section.string("password_file") {
            guard value.hasPrefix("/") else { throw section.error("password_file", "must be an absolute path, got \"\(value)\"") }
            fleet.passwordFile = value
        }
        if let value = try section.string("host_id") {
            guard !value.isEmpty, value.utf8.count <= 255 else { throw section.error("host_id", "must be 1 to 255 bytes") }
            fleet.hostID = value
        }
        if let value = try section.string("degraded_retry") {
            guard let mode = DaemonConfig.FleetConfig.DegradedRetry(rawValue: value) else {
                let names = DaemonConfig.FleetConfig.DegradedRetry.allCases.map(\.rawValue).joined(separator: ", ")
                throw section.error("degraded_retry", "must be one of \(names), got \"\(value)\"")
            }
            fleet.degradedRetry = mode
        }
        if let value = try section.duration("query_timeout") { fleet.queryTimeoutSeconds = value }
        if let value = try section.string("registry") {
            guard !value.isEmpty, !value.contains("://"), value.contains("/") || value.contains(":") || value.contains(".") else {
                throw section.error("registry", "must be a registry and an optional path, like \"registry.internal:5000/sidecar\", got \"\(value)\"")
            }
            fleet.registry = value.hasSuffix("/") ? String(value.dropLast()) : value
        }
        if let value = try section.duration("claim_ttl") {
            guard value >= 1 else { throw section.error("claim_ttl", "must be at least 1s") }
            fleet.claimTTLSeconds = value
        }
        try section.rejectUnknownKeys()
    }

    private static func readRule(index: Int, section: TOMLSection) throws -> ClassificationRule {
        var substrings: [String] = []
        if section.table["match"]?.array != nil {
            substrings = try section.strings("match") ?? []
        } else if let match = try section.string("match") {
            substrings = [match]
        }
        if substrings.contains(where: \.isEmpty) { throw section.error("match", "must not be empty") }
        let exitCode = try section.int("exit_code", in: 0...255).map { Int32($0) }
        guard !substrings.isEmpty || exitCode != nil else {
            throw section.error("match", "a rule needs `match` (a substring or a list of them) or `exit_code`")
        }
        guard let category = try section.string("category"), !category.isEmpty else {
            throw section.error("category", "a rule needs a category")
        }
        let remedy = try section.string("remedy") ?? ""
        if let unknown = RemedyTemplate.unknownPlaceholders(in: remedy).first {
            throw section.error("remedy", "has {\(unknown)}: the only placeholders are {image} and {image|words without one}")
        }
        let permanent = try section.bool("permanent") ?? false
        let retryAfter = try section.duration("retry_after")
        if permanent && retryAfter != nil {
            throw section.error("retry_after", "a permanent rule has no retry-after (nothing to wait for)")
        }
        let rule = ClassificationRule(
            name: "config:\(index)", substrings: substrings, exitCode: exitCode,
            category: category, permanent: permanent, remedy: remedy, retryAfterSeconds: retryAfter)
        try section.rejectUnknownKeys()
        return rule
    }
}
