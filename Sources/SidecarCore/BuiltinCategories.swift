/// The built-in categories: each with one permanence, one default delay and
/// one remedy, whichever rule names it (docs/classification.md lists them).
/// A built-in rule names a category and takes all three from here, so two
/// rules of one category cannot disagree.
public struct BuiltinCategory: Sendable, Equatable {
    public var name: String
    public var permanent: Bool
    /// The delay when the message gives none (transient categories only).
    public var retryAfterSeconds: Double?
    /// A `RemedyTemplate`: `{image}` and `{image|words}` are its only slots.
    public var remedy: String
}

extension BuiltinCategory {
    private static func permanent(_ name: String, _ remedy: String) -> BuiltinCategory {
        BuiltinCategory(name: name, permanent: true, retryAfterSeconds: nil, remedy: remedy)
    }

    private static func transient(_ name: String, after seconds: Double?, _ remedy: String) -> BuiltinCategory {
        BuiltinCategory(name: name, permanent: false, retryAfterSeconds: seconds, remedy: remedy)
    }

    /// In the order docs/classification.md lists them.
    public static let all: [BuiltinCategory] = [
        // Registries and pulls.
        transient("registry_unavailable", after: 5,
            "The registry of {image} could not be reached or failed (refused, unresolvable, timed out, or a server "
                + "error); try again after the delay, and check the network and the registry if it persists."),
        transient("rate_limited", after: 60,
            "The registry is rate limiting pulls of {image}: wait the delay it asks for, pull less often, or log in "
                + "to an account with a higher limit."),
        permanent("image_not_found",
            "The registry has no image {image|by that reference}: check the repository name and the tag, push the "
                + "image, or correct the reference where it is configured (a private repository may answer this "
                + "way until you log in)."),
        permanent("registry_auth",
            "The registry refused access to {image}: log in with an account that may pull it (podman login, "
                + "skopeo login or docker login), or fix the credentials this host uses."),
        permanent("registry_tls",
            "TLS with the registry of {image} failed: install the registry's CA certificate on this host or fix "
                + "its certificate; a plain-HTTP registry belongs in images.insecure_registries."),
        permanent("image_platform",
            "{image|The image} has no variant for this host's OS and architecture: publish one for it (a "
                + "multi-platform image), or use an image built for this platform."),
        permanent("short_name",
            "{image|The reference} is a short name this host cannot resolve: use a fully qualified reference "
                + "(registry/repository:tag), or define an alias or unqualified-search registries in registries.conf."),
        permanent("image_ref",
            "The reference {image|of the image} is malformed (a repository is lowercase, a tag follows a colon, a "
                + "digest follows @): fix it where the task, pod or config names it."),
        permanent("image_missing",
            "{image|The image} is not on this host, and this host does not pull it: run sidecarctl ensure-image "
                + "{image|with the image's name or reference} before starting containers from it."),
        transient("image_pull", after: 10,
            "Pulling {image} failed and may succeed later; if it keeps failing, check the registry's reachability "
                + "and the credentials the pull uses."),
        permanent("disk_full",
            "The disk that holds the image store is full: free space (sidecarctl prune, or the engine's image "
                + "prune), then try again."),
        transient("timeout", after: 5,
            "The operation ran out of time; try again after the delay, and give it longer (a call or job "
                + "timeout) if it keeps happening."),
        // Builds.
        permanent("build_spec",
            "The build definition of {image} cannot be used (a Containerfile or Dockerfile that does not parse, "
                + "an unknown instruction, no FROM): fix it, then ask again."),
        permanent("build_context",
            "A file the build of {image} copies is not in its build context: add it there, or fix the COPY or "
                + "ADD source (and .dockerignore)."),
        // Starting containers.
        transient("runtime_unavailable", after: 5,
            "The container engine or runtime could not be reached (its socket is missing, or it is not running): "
                + "start it, then try again."),
        permanent("container_runtime",
            "The container engine refused to start the container (exit 125), most often because the image is "
                + "missing: make {image} present with sidecarctl ensure-image, then read the engine's error output."),
        permanent("runtime_setup",
            "The OCI runtime cannot set up containers on this host (cgroups, resource limits, namespaces): fix the "
                + "runtime's configuration or the host's, or use another runtime."),
        permanent("exec_format",
            "A program in {image} is built for another CPU architecture (exec format error): use a variant of the "
                + "image built for this host's platform."),
        permanent("entrypoint_missing",
            "The container's command cannot be started from {image}: it is not in the image, not in $PATH, or not "
                + "executable. Fix the entrypoint or command, or add the program to the image."),
        permanent("container_config",
            "The container's configuration cannot be met (a missing secret or config map, a mount of the wrong "
                + "type, a security setting {image} breaks): fix the pod or container spec, or create what it names."),
        permanent("name_conflict",
            "A container with that name already exists: remove or rename it, or start this one under another name."),
        // Scheduling and admission.
        transient("scheduling", after: 30,
            "No node can take the pod now (resources, taints, affinity or volumes): it is placed once one can, so "
                + "wait, free or add capacity, or relax the pod's constraints."),
        transient("quota", after: 60,
            "A resource quota has no room for this request now: wait for usage to fall, or raise the quota."),
        permanent("pod_spec",
            "The cluster refuses the pod as written (a quota needs requests or limits set, or a limit range is "
                + "exceeded): set or fix the resources in the pod spec."),
        // SQLite.
        transient("db_corrupt", after: nil,
            "Report each occurrence with `sidecarctl report-db-error PATH --client ID --error MSG`: after 10 in a "
                + "row the sidecar checks the file host-side and says whether to exit 75 (a torn view, respawn with "
                + "a fresh mount) or to restore it (really corrupt)."),
        transient("db_busy", after: 1,
            "Another connection holds a lock; retry after a short delay or raise the busy timeout."),
        transient("db_schema_changed", after: 0.1,
            "The schema changed under a prepared statement; prepare it again and retry."),
        transient("db_io", after: 5,
            "The operating system reported an I/O error on the database file: check the disk and the kernel log; "
                + "if it repeats, report it with sidecarctl report-db-error."),
        transient("db_nomem", after: 1,
            "SQLite ran out of memory: free memory or lower its cache size, then try again."),
        permanent("db_full",
            "The database's disk (or its max_page_count) is full: free space or raise the limit, then try again."),
        permanent("db_readonly",
            "The database cannot be written: it was opened read-only, or its file, folder or mount is not "
                + "writable. Fix the permissions or the mount."),
        permanent("db_cantopen",
            "The database file cannot be opened: check that the path exists, that its folder is writable (for "
                + "the journal or WAL), and its permissions."),
        permanent("db_permission",
            "Access to the database was refused (file permissions or an authorizer): run as a user that may use it."),
        permanent("db_schema",
            "The statement does not fit the database's schema (a missing table or column): run the migrations, "
                + "or fix the statement."),
        permanent("db_constraint",
            "The write breaks a constraint of the schema (unique, not null, foreign key, check, type); the same "
                + "write fails again: change the data or the schema."),
        permanent("db_too_big",
            "A string or blob is larger than SQLite's limit: store less in one value."),
        permanent("db_misuse",
            "SQLite was called wrongly (a bad parameter or a call out of sequence): fix the program."),
    ]

    public static func named(_ name: String) -> BuiltinCategory {
        guard let found = all.first(where: { $0.name == name }) else {
            preconditionFailure("no built-in category \(name)")
        }
        return found
    }
}
