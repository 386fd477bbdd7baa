import Foundation

/// A container path to the host path behind it, through the mounts in the
/// bundle's config.json: the longest mount destination that holds the path
/// wins. A path no mount holds is taken as a host path already.
struct BundleMounts {
    struct Mount: Equatable {
        var destination: String
        var source: String
    }

    var mounts: [Mount]

    /// Reads `bundle/config.json`; no bundle or no readable file: no mounts.
    static func read(bundle: String) -> BundleMounts {
        guard !bundle.isEmpty, let data = FileManager.default.contents(atPath: bundle + "/config.json"),
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            let mounts = object["mounts"] as? [[String: Any]]
        else { return BundleMounts(mounts: []) }
        return BundleMounts(mounts: mounts.compactMap { mount in
            guard let destination = mount["destination"] as? String, let source = mount["source"] as? String,
                source.hasPrefix("/")
            else { return nil }
            return Mount(destination: destination, source: source)
        })
    }

    func hostPath(_ path: String) -> String {
        let holding = mounts.filter { Self.holds($0.destination, path) }
        guard let mount = holding.max(by: { $0.destination.count < $1.destination.count }) else { return path }
        let rest = path.dropFirst(mount.destination.count)
        return rest.isEmpty ? mount.source : mount.source + (rest.hasPrefix("/") ? "" : "/") + rest
    }

    private static func holds(_ destination: String, _ path: String) -> Bool {
        let folder = destination.hasSuffix("/") ? String(destination.dropLast()) : destination
        return path == folder || path.hasPrefix(folder + "/") || folder.isEmpty
    }
}
