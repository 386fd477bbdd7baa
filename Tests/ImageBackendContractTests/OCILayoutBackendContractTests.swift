import Foundation
import SidecarConfig
import SidecarImages
import SidecarLoop
import SidecarStore
import SidecarTestSupport
import XCTest

@testable import SidecarImageBackends

/// The contract against the OCI layout backend: pulls with real skopeo
/// from a real docker-registry on 127.0.0.1.
final class OCILayoutBackendContractTests: ImageBackendContract {
    private var registry: RegistryService?
    private var database: Database?
    private var loop: EventLoop?
    private var state: String?

    override func tearDown() {
        if let loop {
            loop.run()
            loop.close()
        }
        database?.close()
        registry = nil
        if let state { try? FileManager.default.removeItem(atPath: state) }
    }

    /// What the backend logged.
    private var logged: [String] = []

    override func makeBackend() throws -> BackendUnderTest? {
        guard RegistryService.isInstalled else { throw XCTSkip("docker-registry or skopeo missing (scripts/install-deps.sh test installs them)") }
        let registry = try RegistryService()
        self.registry = registry
        try registry.push("contract/buildable:1", layers: ["contract-layer:1000"])
        let state = "/tmp/sc-oci-\(UUID().uuidString.prefix(8))"
        self.state = state
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let database = try StateSchema.open(stateDirectory: state)
        self.database = database
        let loop = try EventLoop()
        self.loop = loop
        let backend = try OCILayoutBackend(
            loop: loop, root: state + "/oci", database: database, templates: DaemonConfig.CommandTemplates(),
            insecureRegistries: [registry.host, registry.host.replacingOccurrences(of: "127.0.0.1", with: "localhost")],
            logger: { [weak self] in self?.logged.append($0) })
        func image(_ name: String, from repository: String) -> ImageSpec {
            var spec = ImageSpec(name: name, ref: "\(name):1")
            spec.pull = "\(registry.host)/\(repository):1"
            return spec
        }
        let layout = backend.layout
        return BackendUnderTest(
            loop: loop, backend: backend, buildable: image("buildable", from: "contract/buildable"),
            failing: image("failing", from: "contract/nothing-here"), hanging: image("hanging", from: "contract/buildable"),
            hangingTimeoutSeconds: 0.001, makes: .pull, failureSays: "manifest unknown",
            removeOutOfBand: { spec in
                let data = try Data(contentsOf: URL(fileURLWithPath: layout.indexPath))
                var index = try JSONSerialization.jsonObject(with: data) as! [String: Any]
                index["manifests"] = (index["manifests"] as! [[String: Any]]).filter {
                    ($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] != spec.ref
                }
                try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: layout.indexPath))
            })
    }

    func testAPullLeavesNothingBehindInTheIncomingFolder() throws {
        guard let subject = try makeBackend(), let loop else { return }
        var pulled: Result<ImageJobResult, ImageBackendFailure>?
        subject.backend.pull(subject.buildable, timeoutSeconds: 60) { pulled = $0 }
        while pulled == nil { loop.run() }
        XCTAssertEqual(try pulled?.get().outcome, .pulled)
        // The incoming copy is removed on the thread pool: let it finish.
        loop.run()
        let incoming = state! + "/oci/.incoming"
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: incoming), [])
    }

    /// By digest (a fleet's published build) the daemon fetches the image
    /// itself; where it cannot (a registry named, not numeric) skopeo does.
    /// Either way the same manifest ends up in the layout, verified.
    func testAPullByDigestIsFetchedInTheDaemonOrBySkopeoWithTheSameResult() throws {
        guard let subject = try makeBackend(), let loop, let registry else { return }
        var first: Result<ImageJobResult, ImageBackendFailure>?
        subject.backend.pull(subject.buildable, timeoutSeconds: 60) { first = $0 }
        while first == nil { loop.run() }
        let digest = try XCTUnwrap(try first?.get().id)
        for (name, host) in [("fetched", registry.host), ("copied", registry.host.replacingOccurrences(of: "127.0.0.1", with: "localhost"))] {
            var spec = ImageSpec(name: name, ref: "\(name):1")
            spec.pull = "\(host)/contract/buildable@\(digest)"
            var pulled: Result<ImageJobResult, ImageBackendFailure>?
            subject.backend.pull(spec, timeoutSeconds: 60) { pulled = $0 }
            while pulled == nil { loop.run() }
            XCTAssertEqual(try pulled?.get().outcome, .pulled, name)
            XCTAssertEqual(try pulled?.get().id, digest, name)
            var presence: Result<ImagePresence, ImageBackendFailure>?
            subject.backend.presence(of: spec) { presence = $0 }
            while presence == nil { loop.run() }
            XCTAssertEqual(try presence?.get(), .present(id: digest), name)
        }
        XCTAssertFalse(logged.contains { $0.contains("in the daemon failed") }, "the numeric registry was fetched in the daemon: \(logged)")
    }
}
