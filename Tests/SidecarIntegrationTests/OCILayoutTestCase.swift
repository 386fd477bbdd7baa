import Foundation
import SidecarClient
import SidecarWire
import SidecarTestSupport
import XCTest

/// What the tests of the default backend share: a real docker-registry with
/// two images sharing a base layer, a daemon pulling them with skopeo into
/// its OCI layout, and the layout's files as a test reads and damages them.
class OCILayoutTestCase: XCTestCase {
    var registry: RegistryService!
    var daemon: DaemonProcess?
    var layout: String { daemon!.stateDirectory + "/oci" }

    override func setUpWithError() throws {
        guard RegistryService.isInstalled else { throw XCTSkip("docker-registry or skopeo missing (scripts/install-deps.sh test installs them)") }
        registry = try RegistryService()
        try registry.push("agent/alpha:1", layers: ["shared-base:4096", "alpha-top:2048"])
        try registry.push("agent/beta:1", layers: ["shared-base:4096", "beta-top:1024"])
    }

    override func tearDown() {
        daemon = nil
        registry = nil
    }

    /// `presenceTTL` nil keeps the default.
    func start(extra: String = "", presenceTTL: String? = "1ms") throws -> SidecarClient {
        let config = DaemonProcess.baseConfig + """
            [images]
            insecure_registries = ["\(registry.host)"]
            \(presenceTTL.map { "presence_ttl = \"\($0)\"" } ?? "")
            failure_backoff = "1s"
            \(extra)

            [[images.image]]
            name = "alpha"
            ref = "alpha:1"
            pull = "\(registry.host)/agent/alpha:1"

            [[images.image]]
            name = "beta"
            ref = "beta:1"
            pull = "\(registry.host)/agent/beta:1"

            """
        let started = try DaemonProcess(config: config)
        daemon = started
        return started.client()
    }

    // MARK: The layout, as a test sees it

    func index() throws -> [[String: Any]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: layout + "/index.json"))
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["manifests"] as? [[String: Any]] ?? []
    }

    func writeIndex(_ manifests: [[String: Any]]) throws {
        let data = try JSONSerialization.data(withJSONObject: ["schemaVersion": 2, "manifests": manifests])
        try data.write(to: URL(fileURLWithPath: layout + "/index.json"))
    }

    func blobPath(_ digest: String) -> String { layout + "/blobs/sha256/" + digest.dropFirst("sha256:".count) }

    func json(_ digest: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: blobPath(digest)))) as! [String: Any]
    }

    /// The digests of an image's manifest, config and layers (bottom first).
    func blobs(of ref: String) throws -> (manifest: String, config: String, layers: [String]) {
        let entry = try XCTUnwrap(try index().first { ($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == ref })
        let manifest = entry["digest"] as! String
        let object = try json(manifest)
        let config = (object["config"] as! [String: Any])["digest"] as! String
        let layers = (object["layers"] as! [[String: Any]]).map { $0["digest"] as! String }
        return (manifest, config, layers)
    }

    func overwrite(_ path: String, at offset: UInt64, with byte: UInt8) throws {
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: offset)
        let old = handle.readData(ofLength: 1).first ?? 0
        try handle.seek(toOffset: offset)
        handle.write(Data([old == byte ? byte &+ 1 : byte]))
        try handle.close()
    }

    func sha256(_ path: String) throws -> String {
        let result = try registry.run("/usr/bin/sha256sum", [path])
        return String(result.output.prefix(64))
    }

    func assertIntact(_ ref: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let image = try blobs(of: ref)
        for digest in [image.manifest, image.config] + image.layers {
            XCTAssertEqual(try sha256(blobPath(digest)), String(digest.dropFirst(7)), "\(ref): \(digest)", file: file, line: line)
        }
    }
}
