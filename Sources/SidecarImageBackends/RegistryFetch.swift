import Foundation
import SidecarDigest
import SidecarHTTP
import SidecarLoop

/// A pull by digest straight from a registry, in the daemon: the manifest
/// and its blobs with libcurl on the loop, written into an incoming OCI
/// layout on the thread pool, for `OCIStore.importImage` to verify and take
/// (fleet waiters: a `skopeo` process per pull was most of the time from a
/// publish to their answer). Only for what it can do without surprises: a
/// numeric registry address, a single-platform manifest, anonymous access,
/// blobs that fit `maxBytes`; anything else answers nil and the caller
/// runs skopeo instead.
enum RegistryFetch {
    static let maxBytes = 256 << 20
    static let manifestTypes = [
        "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json",
    ]

    /// `source`: HOST:PORT/REPOSITORY@sha256:HEX. Calls `done` with nil when
    /// the image is in `incoming` under `ref`, else why not.
    static func fetch(
        _ source: String, insecure: Bool, ref: String, into incoming: String, loop: EventLoop, timeoutSeconds: Double,
        _ done: @escaping (String?) -> Void
    ) {
        guard let (host, repository, digest) = parse(source) else { return done("not a numeric registry and a digest") }
        let client: HTTPClient
        do {
            client = try HTTPClient(loop: loop, baseURL: (insecure ? "http://" : "https://") + host)
        } catch {
            return done("\(error)")
        }
        let finish = { (failure: String?) in
            client.close()
            done(failure)
        }
        let manifestRequest = HTTPRequest(
            path: "/v2/\(repository)/manifests/\(digest)", headers: ["Accept: " + manifestTypes.joined(separator: ", ")],
            timeoutSeconds: timeoutSeconds)
        client.send(manifestRequest) { result in
            guard case .success(let response) = result, response.status == 200 else {
                return finish("the manifest: \(describe(result))")
            }
            let manifest = response.body
            guard "sha256:" + SHA256Digest.hex(of: manifest) == digest,
                let object = try? JSONSerialization.jsonObject(with: Data(manifest)) as? [String: Any],
                let mediaType = object["mediaType"] as? String, manifestTypes.contains(mediaType),
                let config = object["config"] as? [String: Any], let layers = object["layers"] as? [[String: Any]]
            else { return finish("the manifest is not a single image's, or not the digest asked for") }
            let blobs = ([config] + layers).compactMap { $0["digest"] as? String }
            let total = ([config] + layers).reduce(0) { $0 + (($1["size"] as? Int) ?? Int.max / 2) }
            guard blobs.count == layers.count + 1, total <= maxBytes, blobs.allSatisfy(isDigest) else {
                return finish("the blobs are too large, or not sha256")
            }
            fetchBlobs(blobs, client: client, repository: repository, timeoutSeconds: timeoutSeconds) { fetched in
                guard case .success(let bodies) = fetched else {
                    if case .failure(let failure) = fetched { finish(failure.reason) }
                    return
                }
                let index: [String: Any] = [
                    "schemaVersion": 2,
                    "manifests": [[
                        "mediaType": mediaType, "digest": digest, "size": manifest.count,
                        "annotations": ["org.opencontainers.image.ref.name": ref],
                    ]],
                ]
                let files = zip(blobs, bodies).map { ("blobs/sha256/" + $0.dropFirst("sha256:".count), $1) } + [
                    ("blobs/sha256/" + digest.dropFirst("sha256:".count), manifest),
                    ("oci-layout", Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)),
                    ("index.json", (try? JSONSerialization.data(withJSONObject: index)).map { [UInt8]($0) } ?? []),
                ]
                write(files, into: incoming, loop: loop, finish)
            }
        }
    }

    private struct FetchFailure: Error {
        let reason: String
    }

    /// Every blob at once (one connection each, in parallel), in order.
    private static func fetchBlobs(
        _ blobs: [String], client: HTTPClient, repository: String, timeoutSeconds: Double,
        _ done: @escaping (Result<[[UInt8]], FetchFailure>) -> Void
    ) {
        var bodies: [[UInt8]?] = Array(repeating: nil, count: blobs.count)
        var left = blobs.count
        var failure: String?
        for (index, digest) in blobs.enumerated() {
            client.send(HTTPRequest(path: "/v2/\(repository)/blobs/\(digest)", timeoutSeconds: timeoutSeconds)) { result in
                switch result {
                case .success(let response) where response.status == 200: bodies[index] = response.body
                default: failure = failure ?? "blob \(digest): \(describe(result))"
                }
                left -= 1
                guard left == 0 else { return }
                if let failure { return done(.failure(FetchFailure(reason: failure))) }
                done(.success(bodies.map { $0 ?? [] }))
            }
        }
    }

    /// Writes files below `folder` on the thread pool.
    private static func write(
        _ files: [(String, [UInt8])], into folder: String, loop: EventLoop, _ done: @escaping (String?) -> Void
    ) {
        do {
            try ThreadPoolWork.compute(loop: loop, { () -> String? in
                do {
                    for (path, bytes) in files {
                        let url = URL(fileURLWithPath: folder + "/" + path)
                        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                        try Data(bytes).write(to: url)
                    }
                    return nil
                } catch {
                    return "cannot write the image: \(error)"
                }
            }, then: done)
        } catch {
            done("\(error)")
        }
    }

    /// HOST:PORT (numeric), REPOSITORY, sha256:HEX.
    static func parse(_ source: String) -> (String, String, String)? {
        guard let at = source.range(of: "@"), let slash = source.firstIndex(of: "/"), slash < at.lowerBound else { return nil }
        let host = String(source[..<slash])
        let repository = String(source[source.index(after: slash)..<at.lowerBound])
        let digest = String(source[at.upperBound...])
        let address = host.split(separator: ":").first.map(String.init) ?? ""
        let parts = address.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }), isDigest(digest), !repository.isEmpty else { return nil }
        return (host, repository, digest)
    }

    private static func isDigest(_ text: String) -> Bool {
        text.hasPrefix("sha256:") && text.count == 71 && text.dropFirst(7).allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    private static func describe(_ result: Result<HTTPResponse, HTTPError>) -> String {
        switch result {
        case .success(let response): "HTTP \(response.status)"
        case .failure(let error): error.message
        }
    }
}
