/// The built-in classification rules, from the incidents in shared/seeds.
/// Order matters: the first match wins, so the specific rules ("manifest
/// unknown" inside an ErrImagePull message) come before the general ones.
enum BuiltinRules {
    static let all: [ClassificationRule] = [
        // Seed 003: the image is not on the node and pulls are forbidden;
        // retrying creates dead pods for hours.
        ClassificationRule(
            name: "err-image-never-pull", substrings: ["errimageneverpull", "with pull policy of never"],
            category: "image_missing", permanent: true,
            remedy: "The image {image} is not present on this host and pulls are forbidden (imagePullPolicy: Never). "
                + "Build it here first: sidecarctl ensure-image {image}"),
        ClassificationRule(
            name: "invalid-image-name", substrings: ["invalidimagename", "invalid reference format"],
            category: "image_ref", permanent: true,
            remedy: "The image reference {image} is malformed; fix it where the task or pod is defined."),
        ClassificationRule(
            name: "manifest-unknown", substrings: ["manifest unknown", "not found: manifest"],
            category: "image_not_found", permanent: true,
            remedy: "The registry has no such tag for {image}; push it or correct the tag."),
        ClassificationRule(
            name: "repository-does-not-exist", substrings: ["repository does not exist", "name unknown"],
            category: "image_not_found", permanent: true,
            remedy: "The registry has no repository for {image} (or it needs a login); push it, log in, or correct the name."),
        // Seed 002: an external prune removed the image; every spawn exits 125.
        ClassificationRule(
            name: "unable-to-find-image", substrings: ["unable to find image", "no such image", "image not known"],
            category: "image_missing", permanent: true,
            remedy: "The image {image} is not on this host. Make it present before spawning: sidecarctl ensure-image {image}"),
        ClassificationRule(
            name: "image-pull-backoff", substrings: ["imagepullbackoff", "back-off pulling image"],
            category: "image_pull", permanent: false,
            remedy: "Pulls of {image} keep failing and are backing off; check the registry's reachability and credentials."),
        ClassificationRule(
            name: "err-image-pull", substrings: ["errimagepull"],
            category: "image_pull", permanent: false,
            remedy: "Pulling {image} failed; a retry may succeed if the registry was unreachable."),
        // Seed 001: a torn page cache on a bind mount looks exactly like real
        // corruption from inside the container; only a host-side check tells.
        ClassificationRule(
            name: "sqlite-corrupt",
            substrings: ["database disk image is malformed", "sqlite_corrupt", "file is not a database", "sqlite_notadb"],
            category: "db_corrupt", permanent: false,
            remedy: "Report each occurrence with `sidecarctl report-db-error PATH --client ID --error MSG`: "
                + "after 10 in a row the sidecar checks the file host-side and says whether to exit 75 "
                + "(a torn view, respawn with a fresh mount) or to restore it (really corrupt)."),
        ClassificationRule(
            name: "sqlite-corrupt-code", sqlitePrimaryCodes: [11, 26],  // SQLITE_CORRUPT, SQLITE_NOTADB
            category: "db_corrupt", permanent: false,
            remedy: "Report each occurrence with `sidecarctl report-db-error`: after 10 in a row the sidecar "
                + "checks the file host-side and says whether to exit 75 or to restore it."),
        ClassificationRule(
            name: "sqlite-busy", substrings: ["database is locked", "sqlite_busy"],
            category: "db_busy", permanent: false,
            remedy: "Another connection holds a lock; retry after a short delay or raise the busy timeout."),
        ClassificationRule(
            name: "sqlite-busy-code", sqlitePrimaryCodes: [5, 6],  // SQLITE_BUSY, SQLITE_LOCKED
            category: "db_busy", permanent: false,
            remedy: "Another connection holds a lock; retry after a short delay or raise the busy timeout."),
        // `docker run` / `podman run` exit 125 when the engine itself refused
        // to start the container, most often because the image is gone.
        ClassificationRule(
            name: "container-runtime-exit-125", exitCode: 125,
            category: "container_runtime", permanent: true,
            remedy: "The container engine refused to start the container (exit 125), most often because the image "
                + "is missing: run sidecarctl ensure-image for it, then read the engine's error output."),
    ]

    static let prepared = all.map { PreparedRule($0, id: "builtin:\($0.name)") }
}
