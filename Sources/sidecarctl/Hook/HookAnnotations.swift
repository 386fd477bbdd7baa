import Foundation

/// What a container's `sidecar.*` annotations ask of the hook. A container
/// with none is not the hook's business (it is installed for every one).
struct HookAnnotations: Equatable {
    static let prefix = "sidecar."
    static let checkDb = "sidecar.check-db"
    static let lease = "sidecar.lease"
    static let required = "sidecar.required"

    /// Databases to check before the start: container paths (mapped through
    /// the bundle's mounts) or host paths.
    var databases: [String] = []
    /// An image name or ref (or artifact) to lease for the container's life.
    var leaseTarget: String?
    /// Do not start the container when the daemon cannot do the above.
    var required = false
    /// `sidecar.*` keys this hook does not know (a typo, a newer hook's).
    var unknown: [String] = []

    /// nil when no annotation starts with "sidecar.".
    static func read(_ annotations: [String: String]) throws(HookFailure) -> HookAnnotations? {
        let ours = annotations.filter { $0.key.hasPrefix(prefix) }
        guard !ours.isEmpty else { return nil }
        var asked = HookAnnotations()
        for (key, value) in ours.sorted(by: { $0.key < $1.key }) {
            switch key {
            case checkDb:
                asked.databases = value.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
                if asked.databases.isEmpty || asked.databases.contains(where: { !$0.hasPrefix("/") }) {
                    throw .badInput("\(checkDb)=\"\(value)\": expected absolute paths separated by commas")
                }
            case lease:
                guard !value.isEmpty else { throw .badInput("\(lease) is empty: expected an image name or ref") }
                asked.leaseTarget = value
            case required:
                switch value.lowercased() {
                case "true": asked.required = true
                case "false": asked.required = false
                default: throw .badInput("\(required)=\"\(value)\": expected true or false")
                }
            default:
                asked.unknown.append(key)
            }
        }
        return asked
    }

    /// The lease's holder: one per container, so poststop finds it.
    static func holder(container id: String) -> String { "container/\(id)" }
}
