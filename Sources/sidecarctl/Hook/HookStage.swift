/// The OCI lifecycle stages a hook may be run for (runtime-spec config.md,
/// oci-hooks(5)). The hook acts at two of them: before the container's
/// process starts, and after it stopped.
enum HookStage: String, CaseIterable {
    case prestart, createRuntime, createContainer, startContainer, poststart, poststop

    /// Checks the databases and takes the lease. `prestart` (deprecated in
    /// the runtime spec, still what podman and CRI-O run) and
    /// `createRuntime` come at the same moment: install the hook for one of
    /// them; run for both, it checks twice and renews its lease.
    var startsContainer: Bool { self == .prestart || self == .createRuntime }

    static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
