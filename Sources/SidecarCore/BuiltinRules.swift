/// The built-in classification rules: the incidents in shared/seeds and the
/// real messages of Tests/Fixtures/error-corpus.json (kubelet, containerd,
/// moby, containers/image, podman, buildah, skopeo, runc, crun, the
/// Kubernetes scheduler and admission, SQLite, registries).
///
/// Order matters: the first rule in this list that matches wins, wherever
/// its substring sits in the message. So the causes come before the
/// wrappers that carry them: "manifest unknown" or "connection refused"
/// inside an ErrImagePull message decides, and ErrImagePull alone is the
/// generic transient answer at the end. A rule takes its permanence, delay
/// and remedy from its category (`BuiltinCategory`).
enum BuiltinRules {
    private static func rule(
        _ name: String, _ category: String, _ substrings: [String] = [], exitCode: Int32? = nil, sqlite: [Int32] = []
    ) -> ClassificationRule {
        let kind = BuiltinCategory.named(category)
        return ClassificationRule(
            name: name, substrings: substrings, exitCode: exitCode, sqlitePrimaryCodes: sqlite, category: kind.name,
            permanent: kind.permanent, remedy: kind.remedy, retryAfterSeconds: kind.retryAfterSeconds)
    }

    static let all: [ClassificationRule] = [
        // Seed 003: the image is not on the node and pulls are forbidden;
        // retrying creates dead pods for hours.
        rule("err-image-never-pull", "image_missing", ["errimageneverpull", "with pull policy of never"]),
        // containers/image: a short name with no alias and no search registry.
        rule("short-name", "short_name", ["short-name resolution enforced", "did not resolve to an alias"]),
        rule("invalid-image-name", "image_ref", [
            "invalidimagename", "invalid reference format", "repository name must be lowercase",
            "couldn't parse image reference", "name_invalid", "invalid repository name",
        ]),
        // Registries: the cause of a failed pull, before anything that wraps it.
        rule("rate-limited", "rate_limited", [
            "toomanyrequests", "too many requests", "pull rate limit", "rate limit exceeded", "rate exceeded",
        ]),
        rule("repository-does-not-exist", "image_not_found", [
            "repository does not exist", "name unknown", "name_unknown", "repository name not known",
        ]),
        rule("manifest-unknown", "image_not_found", [
            "manifest unknown", "manifest_unknown", "not found: manifest", "blob unknown", "blob_unknown",
            "invalid status code from registry 404",
        ]),
        rule("registry-auth", "registry_auth", [
            "unauthorized", "authentication required", "requested access to the resource is denied",
            "insufficient_scope", "invalid username/password", "incorrect username or password",
            "403 (forbidden)", "403 forbidden", "401 unauthorized", ": denied", "no basic auth credentials",
        ]),
        rule("registry-tls", "registry_tls", [
            "x509:", "tls: failed to verify certificate", "server gave http response to https client",
            "first record does not look like a tls handshake",
        ]),
        rule("image-platform", "image_platform", [
            "no matching manifest for", "no match for platform in manifest", "no image found in manifest list",
            "does not match the specified platform",
        ]),
        rule("no-space-left", "disk_full", ["no space left on device"]),
        // Starting a container: the runtime's own errors.
        rule("exec-format", "exec_format", ["exec format error"]),
        rule("entrypoint-missing", "entrypoint_missing", [
            "not found in $path", "attempted to invoke a command that was not found",
            "unable to start container process: exec:",
        ]),
        rule("runtime-setup", "runtime_setup", ["cgroups in hybrid mode not supported", "setrlimit `rlimit_"]),
        rule("name-in-use", "name_conflict", ["is already in use by", "that name is already in use"]),
        rule("container-config", "container_config", [
            "createcontainerconfigerror", "mount a directory onto a file", "runasnonroot and image will run as root",
            "couldn't find key", "error: secret \"", "error: configmap \"",
        ]),
        rule("runtime-unavailable", "runtime_unavailable", [
            "cannot connect to the docker daemon", "is the docker daemon running", "transport: error while dialing",
            "cannot connect to podman", "unable to connect to podman socket",
        ]),
        rule("registry-unavailable", "registry_unavailable", [
            "connection refused", "no such host", "i/o timeout", "tls handshake timeout", "unexpected eof",
            "connection reset by peer", "network is unreachable", "no route to host",
            "temporary failure in name resolution", "server misbehaving", "client.timeout exceeded",
            "request canceled while waiting for connection", "received unexpected http status: 5",
            "invalid status code from registry 5", "500 internal server error", "502 bad gateway",
            "503 service unavailable", "504 gateway timeout", "registryunavailable",
        ]),
        // Builds.
        rule("build-context", "build_context", [
            "checking on sources under", "failed to compute cache key", "not found in build context",
        ]),
        rule("build-spec", "build_spec", [
            "unknown instruction", "no from statement found", "dockerfile parse error", "file with no instructions",
        ]),
        // containerd writes a missing image as "<ref>: not found" (errdefs),
        // and CRI answers NotFound; after whatever cause the message gives
        // first.
        rule("containerd-not-found", "image_not_found", ["code = notfound", ": not found"]),
        // Scheduling and admission.
        rule("scheduling", "scheduling", [
            "nodes are available:", "unbound immediate persistentvolumeclaims", "failedscheduling",
            "no nodes available to schedule pods",
        ]),
        rule("quota-spec", "pod_spec", ["failed quota:", "usage per container is", "usage per pod is"]),
        rule("quota-exceeded", "quota", ["exceeded quota"]),
        rule("deadline-exceeded", "timeout", ["deadline exceeded", "deadlineexceeded"]),
        // Seed 002: an external prune removed the image; every spawn exits 125.
        rule("unable-to-find-image", "image_missing", [
            "unable to find image", "no such image", "image not known", "image not present locally",
        ]),
        rule("image-pull-backoff", "image_pull", ["imagepullbackoff", "back-off pulling image"]),
        rule("err-image-pull", "image_pull", ["errimagepull", "failed to pull image"]),
        // Seed 001: a torn page cache on a bind mount looks exactly like real
        // corruption from inside the container; only a host-side check tells.
        rule("sqlite-corrupt", "db_corrupt", [
            "database disk image is malformed", "sqlite_corrupt", "file is not a database", "sqlite_notadb",
        ]),
        rule("sqlite-corrupt-code", "db_corrupt", sqlite: [11, 26]),  // SQLITE_CORRUPT, SQLITE_NOTADB
        rule("sqlite-busy", "db_busy", [
            "database is locked", "sqlite_busy", "database table is locked", "sqlite_locked", "locking protocol",
        ]),
        rule("sqlite-busy-code", "db_busy", sqlite: [5, 6, 15]),  // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_PROTOCOL
        rule("sqlite-schema-changed", "db_schema_changed", ["database schema has changed", "sqlite_schema"], sqlite: []),
        rule("sqlite-schema-changed-code", "db_schema_changed", sqlite: [17]),
        rule("sqlite-ioerr", "db_io", ["disk i/o error", "sqlite_ioerr"]),
        rule("sqlite-ioerr-code", "db_io", sqlite: [10]),
        rule("sqlite-nomem", "db_nomem", ["sqlite_nomem"]),
        rule("sqlite-nomem-code", "db_nomem", sqlite: [7]),
        rule("sqlite-full", "db_full", ["database or disk is full", "sqlite_full"]),
        rule("sqlite-full-code", "db_full", sqlite: [13]),
        rule("sqlite-readonly", "db_readonly", ["attempt to write a readonly database", "sqlite_readonly"]),
        rule("sqlite-readonly-code", "db_readonly", sqlite: [8]),
        rule("sqlite-cantopen", "db_cantopen", ["unable to open database file", "sqlite_cantopen"]),
        rule("sqlite-cantopen-code", "db_cantopen", sqlite: [14]),
        rule("sqlite-perm", "db_permission", ["access permission denied", "sqlite_perm", "sqlite_auth"]),
        rule("sqlite-perm-code", "db_permission", sqlite: [3, 23]),  // SQLITE_PERM, SQLITE_AUTH
        rule("sqlite-schema", "db_schema", ["no such table:", "no such column:", "has no column named"]),
        rule("sqlite-constraint", "db_constraint", ["constraint failed", "datatype mismatch", "sqlite_constraint"]),
        rule("sqlite-constraint-code", "db_constraint", sqlite: [19, 20]),  // SQLITE_CONSTRAINT, SQLITE_MISMATCH
        rule("sqlite-toobig", "db_too_big", ["string or blob too big", "sqlite_toobig"]),
        rule("sqlite-toobig-code", "db_too_big", sqlite: [18]),
        rule("sqlite-misuse", "db_misuse", [
            "bad parameter or other api misuse", "library routine called out of sequence", "sqlite_misuse",
        ]),
        rule("sqlite-misuse-code", "db_misuse", sqlite: [21]),
        // `docker run` / `podman run` exit 125 when the engine itself refused
        // to start the container, most often because the image is gone.
        rule("container-runtime-exit-125", "container_runtime", exitCode: 125),
    ]

    static let prepared = all.map { PreparedRule($0, id: "builtin:\($0.name)") }
}
