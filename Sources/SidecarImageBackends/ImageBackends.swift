import SidecarConfig
import SidecarImages
import SidecarLoop
import SidecarStore

/// The backend `images.backend` names, made on the daemon's loop.
package enum ImageBackends {
    /// `database`: the state database, where the OCI layout remembers the
    /// copies it verified; `environment`: for `$DOCKER_HOST`.
    package static func make(
        _ config: DaemonConfig, loop: EventLoop, database: Database, environment: [String: String],
        logger: @escaping (String) -> Void
    ) throws -> ImageBackend {
        let images = config.images
        switch images.backend {
        case .command:
            let backend = CommandImageBackend(loop: loop, templates: images.command)
            backend.configure(images)
            return backend
        case .docker:
            return try DockerEngineBackend(loop: loop, socketPath: config.dockerSocketPath(environment: environment))
        case .ociLayout:
            let backend = try OCILayoutBackend(
                loop: loop, root: config.ociLayoutPath, database: database, templates: images.command,
                insecureRegistries: images.insecureRegistries, logger: logger)
            backend.configure(images)
            return backend
        }
    }
}
