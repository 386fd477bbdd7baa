/// Rules that span several keys: image names are unique, a `base` names a
/// known image and bases form no cycle, paths are absolute.
enum ConfigValidation {
    static func validate(_ config: DaemonConfig, file: String) throws {
        try validatePaths(config, file: file)
        try validateImages(config.images, file: file)
        if config.limits.maxBufferedBytes < config.limits.maxMessageBytes {
            throw ConfigError(file: file, key: "limits.max_buffered_bytes", reason: "must hold at least one frame of limits.max_message_bytes")
        }
        if config.images.failureBackoffMaxSeconds < config.images.failureBackoffSeconds {
            throw ConfigError(file: file, key: "images.failure_backoff_max", reason: "must not be shorter than images.failure_backoff")
        }
        if !config.fleet.registry.isEmpty {
            if !config.fleet.enabled {
                throw ConfigError(file: file, key: "fleet.registry", reason: "shares builds through fleet.postgres, which is not set")
            }
            if config.images.backend == .command && config.images.command.push.isEmpty {
                throw ConfigError(
                    file: file, key: "fleet.registry",
                    reason: "the command backend shares builds only with images.command.push (an argv that pushes {ref} to {target} and writes the digest to {digestfile})")
            }
        }
    }

    static func validatePaths(_ config: DaemonConfig, file: String) throws {
        if config.socket.isEmpty { throw ConfigError(file: file, key: "socket", reason: "must not be empty") }
        // sun_path holds 108 bytes with its terminating NUL.
        if config.socket.utf8.count > 107 {
            throw ConfigError(file: file, key: "socket", reason: "is \(config.socket.utf8.count) bytes; a Unix socket path holds at most 107")
        }
        if config.stateDirectory.isEmpty { throw ConfigError(file: file, key: "state_dir", reason: "must not be empty") }
    }

    static func validateImages(_ images: DaemonConfig.ImagesConfig, file: String) throws {
        var byName: [String: DaemonConfig.ImageSpec] = [:]
        for (index, image) in images.images.enumerated() {
            if byName[image.name] != nil {
                throw ConfigError(file: file, key: "images.image[\(index)].name", reason: "image \"\(image.name)\" is declared twice")
            }
            byName[image.name] = image
        }
        for (index, image) in images.images.enumerated() where !image.base.isEmpty {
            guard byName[image.base] != nil else {
                throw ConfigError(
                    file: file, key: "images.image[\(index)].base",
                    reason: "image \"\(image.name)\" is based on \"\(image.base)\", which is not declared")
            }
            var seen = [image.name]
            var current = image.base
            while !current.isEmpty {
                if seen.contains(current) {
                    throw ConfigError(
                        file: file, key: "images.image[\(index)].base",
                        reason: "base images form a cycle: \((seen + [current]).joined(separator: " -> "))")
                }
                seen.append(current)
                current = byName[current]?.base ?? ""
            }
        }
    }
}
