import Foundation
import SidecarDigest
import SidecarHTTP
import SidecarLoop
import SidecarOCI

/// A pull by digest straight from a registry, in the daemon: the manifest
/// and its blobs with libcurl on the loop, written into an incoming OCI
/// layout on the thread pool, for `OCIStore.importImage` to verify and take
/// (fleet waiters: a `skopeo` process per pull was most of the time from a
/// publish to their answer). Only for what it can do without surprises: a
/// numeric registry address, a single-platform manifest, anonymous access,
/// blobs that fit `maxBytes`; anything else answers why not, and the
/// caller runs skopeo instead.
enum RegistryFetch {
    static let maxBytes: Int64 = 256 << 20
    static let maxManifestBytes = 4 << 20
    static let manifestTypes = [OCIDescriptor.manifestType, OCIDescriptor.dockerManifestType]

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
            // Hashed and parsed on the loop: only a manifest of a size the
            // image spec expects (4 MB at most).
            guard manifest.count <= maxManifestBytes, "sha256:" + SHA256Digest.hex(of: manifest) == digest,
                let object = try? JSONSerialization.jsonObject(with: Data(manifest)) as? [String: Any],
                let mediaType = object["mediaType"] as? String, manifestTypes.contains(mediaType),
                let config = OCIDescriptor(json: object["config"]), let layerList = object["layers"] as? [Any]
            else { return finish("the manifest is not a single image's of at most 4 MiB, or not the digest asked for") }
            let blobs = [config] + layerList.compactMap(OCIDescriptor.init(json:))
            guard blobs.count == layerList.count + 1, blobs.reduce(0, { $0 + $1.size }) <= maxBytes,
                blobs.allSatisfy({ $0.sha256Hex != nil })
            else { return finish("the blobs are too large, or not sha256") }
            fetchBlobs(blobs.map(\.digest), client: client, repository: repository, timeoutSeconds: timeoutSeconds) { fetched in
                switch fetched {
                case .failure(let failure):
                    finish(failure.reason)
                case .success(let bodies):
                    let image = OCIDescriptor(mediaType: mediaType, digest: digest, size: Int64(manifest.count), refName: ref)
                    write(image, manifest: manifest, blobs: Array(zip(blobs.map(\.digest), bodies)), into: incoming, loop: loop, finish)
                }
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

    /// Writes the image as an OCI layout at `folder`, on the thread pool.
    /// Nothing is synced: `importImage` verifies it and moves it in.
    private static func write(
        _ image: OCIDescriptor, manifest: [UInt8], blobs: [(String, [UInt8])], into folder: String, loop: EventLoop,
        _ done: @escaping (String?) -> Void
    ) {
        let layout = OCILayout(root: folder)
        do {
            try ThreadPoolWork.compute(loop: loop, { () -> String? in
                do {
                    try FileManager.default.createDirectory(atPath: layout.blobsPath, withIntermediateDirectories: true)
                    for (digest, bytes) in blobs + [(image.digest, manifest)] {
                        guard let path = layout.blobPath(digest: digest) else { return "\(digest) is not a sha256 digest" }
                        try Data(bytes).write(to: URL(fileURLWithPath: path))
                    }
                    try Data(OCILayout.marker).write(to: URL(fileURLWithPath: layout.markerPath))
                    try Data(try OCILayout.index([image])).write(to: URL(fileURLWithPath: layout.indexPath))
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
        // IPv4 and a port: curl would resolve a name with a blocking call.
        let address = host.split(separator: ":").first.map(String.init) ?? ""
        guard LoopResolver.isNumericAddress(address),
            OCIDescriptor(mediaType: "", digest: digest, size: 0).sha256Hex != nil, !repository.isEmpty
        else { return nil }
        return (host, repository, digest)
    }

    private static func describe(_ result: Result<HTTPResponse, HTTPError>) -> String {
        switch result {
        case .success(let response): "HTTP \(response.status)"
        case .failure(let error): error.message
        }
    }
}
