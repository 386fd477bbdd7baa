import Foundation

/// The OCI state of a container (runtime-spec runtime.md), as the runtime
/// gives it to a hook: what the hook needs of it.
struct ContainerState {
    var id: String
    /// The container's init process, as the runtime's (host) pid namespace
    /// sees it; absent once the container has stopped.
    var pid: Int32?
    /// The bundle folder, holding config.json.
    var bundle: String
    var annotations: [String: String]

    static func parse(_ data: Data) throws(HookFailure) -> ContainerState {
        guard !data.isEmpty else { throw .badInput("stdin is empty: a hook gets the container's OCI state there") }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data)
        } catch {
            let start = String(decoding: data.prefix(40), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
            throw .badInput("stdin is not JSON, so not an OCI state (\(data.count) bytes, starting \"\(start)\")")
        }
        guard let object = parsed as? [String: Any] else { throw .badInput("stdin is JSON but not an object: not an OCI state") }
        guard let id = object["id"] as? String, !id.isEmpty else { throw .badInput("the OCI state has no \"id\"") }
        let annotations = object["annotations"] as? [String: Any] ?? [:]
        return ContainerState(
            id: id, pid: (object["pid"] as? NSNumber).map { $0.int32Value }.flatMap { $0 > 0 ? $0 : nil },
            bundle: object["bundle"] as? String ?? "",
            annotations: annotations.compactMapValues { $0 as? String })
    }
}
