/// A counter of the daemon, declared once with its label and help text, so
/// a call site names a constant (`metrics.increment(.leases, label:
/// "expired")`) and a mistyped name does not compile.
struct Counter: Hashable, Sendable {
    let name: String
    /// The label's name; empty for a counter without one.
    let labelName: String
    let help: String
}

extension Counter {
    static let connections = Counter(
        name: "sidecar_connections_total", labelName: "", help: "Connections accepted since start.")
    static let connectionsRejected = Counter(
        name: "sidecar_connections_rejected_total", labelName: "reason",
        help: "Connections refused or closed by the daemon, by reason.")
    static let protocolErrors = Counter(
        name: "sidecar_protocol_errors_total", labelName: "kind", help: "Frames that broke the protocol, by kind.")
    static let configReloads = Counter(
        name: "sidecar_config_reloads_total", labelName: "result", help: "Config reloads, by result.")
    static let retryDecisions = Counter(
        name: "sidecar_retry_decisions_total", labelName: "decision", help: "ReserveRetrySlot answers, by decision.")
    static let retryCommits = Counter(
        name: "sidecar_retry_commits_total", labelName: "result",
        help: "Group commits of the retry ledger (each one transaction), by result.")
    static let dbChecks = Counter(
        name: "sidecar_db_checks_total", labelName: "outcome",
        help: "CheckDb requests by outcome: run (a check ran), shared, reused, outside_roots.")
    static let imageEnsures = Counter(
        name: "sidecar_image_ensure_total", labelName: "answer",
        help: "EnsureImage answers: present (from the cache or a check), joined (a job), failed.")
    static let imageJobs = Counter(
        name: "sidecar_image_jobs_total", labelName: "result", help: "Image jobs by result: started, finished, failed.")
    static let imageScrubs = Counter(
        name: "sidecar_image_scrubs_total", labelName: "result",
        help: "Scrubs of the images' blobs, by result: clean, damaged (some image was), failed.")
    static let leases = Counter(
        name: "sidecar_leases_total", labelName: "event", help: "Lease events: acquired, renewed, released, expired.")

    static let fleetTransitions = Counter(
        name: "sidecar_fleet_transitions_total", labelName: "to",
        help: "Fleet mode's link to PostgreSQL going down (degraded) and coming back (restored).")
    static let fleetLocalAnswers = Counter(
        name: "sidecar_fleet_local_answers_total", labelName: "method",
        help: "Retry ledger calls answered by this host alone while the fleet was unreachable.")
    static let fleetMerged = Counter(
        name: "sidecar_fleet_merged_keys_total", labelName: "result",
        help: "Keys this host's ledger held while degraded, merged into the fleet's on reconnect, by result.")

    static let stateFull = Counter(
        name: "sidecar_state_full_total", labelName: "what",
        help: "New retry keys or leases refused because the daemon holds its maximum (retry.max_keys, leases.max).")

    /// Every counter, each rendered (even at zero) in this order.
    static let all: [Counter] = [
        .configReloads, .connectionsRejected, .connections, .dbChecks, .fleetLocalAnswers, .fleetMerged, .fleetTransitions,
        .imageEnsures, .imageJobs, .imageScrubs, .leases, .protocolErrors, .retryCommits, .retryDecisions, .stateFull,
    ].sorted { $0.name < $1.name }
}
