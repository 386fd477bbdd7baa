import Foundation

/// A real `docker-registry` (the distribution registry v2) on 127.0.0.1 with
/// filesystem storage in a temp folder, and a way to put test images in it
/// (Tests/Fixtures/oci_fixture.py, pushed with skopeo).
///
/// `listenAddress` makes it listen on another local address instead (a
/// NetworkNamespace's `hostAddress`: reached from inside the namespace over
/// the veth, and from the root namespace too, as any local address is); it
/// must be on an interface when the registry starts.
public final class RegistryService {
    public let directory: String
    public let port: Int
    /// The address listened on (127.0.0.1 unless `listenAddress` was given).
    public let address: String
    private var process: Process?

    /// `htpasswd`, for a registry that asks for a login.
    public static var canAskForLogin: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/htpasswd") }

    public static var isInstalled: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/docker-registry")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/skopeo")
    }

    public static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/oci_fixture.py").standardizedFileURL.path

    /// With `login`, the registry asks for that user and password (htpasswd
    /// auth, bcrypt, made by apache2-utils' `htpasswd`) and anonymous pulls
    /// are refused.
    public init(login: (user: String, password: String)? = nil, listenAddress: String = "127.0.0.1") throws {
        address = listenAddress
        directory = "/tmp/rg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        port = Self.freePort()
        var auth = ""
        if let login {
            let made = try ToolRun.run("/usr/bin/htpasswd", ["-Bbn", login.user, login.password])
            guard made.status == 0 else { throw PodmanError(message: "htpasswd failed: \(made.output)") }
            try made.output.write(toFile: directory + "/htpasswd", atomically: true, encoding: .utf8)
            auth = """

                auth:
                  htpasswd:
                    realm: sidecar-test
                    path: \(directory)/htpasswd
                """
        }
        let config = """
            version: 0.1
            log:
              level: error
            storage:
              filesystem:
                rootdirectory: \(directory)/data
              delete:
                enabled: true
            http:
              addr: \(address):\(port)
            """ + auth
        try config.write(toFile: directory + "/config.yml", atomically: true, encoding: .utf8)
        try start()
    }

    /// "127.0.0.1:PORT" (or the `listenAddress`): the host part of every image's source.
    public var host: String { "\(address):\(port)" }

    public func start() throws {
        let log = directory + "/registry.log"
        process = try ToolRun.start("/usr/bin/docker-registry", ["serve", directory + "/config.yml"], logPath: log)
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            // Any HTTP answer (401 from a registry that asks for a login too).
            if let probe = try? run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://\(host)/v2/"]),
                probe.output.hasPrefix("200") || probe.output.hasPrefix("401")
            {
                return
            }
            usleep(50_000)
        }
        throw PodmanError(message: "docker-registry did not answer on \(host); see \(log)")
    }

    public func stop() {
        ToolRun.kill(process)
    }

    /// Makes an image of `layers` (see oci_fixture.py) and pushes it as
    /// `host/repository`.
    public func push(_ repository: String, layers: [String], login: (user: String, password: String)? = nil) throws {
        let layout = directory + "/make-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: layout) }
        let made = try run("/usr/bin/python3", [Self.fixture, layout, repository] + layers)
        guard made.status == 0 else { throw PodmanError(message: "oci_fixture.py failed: \(made.output)") }
        let pushed = try run(
            "/usr/bin/skopeo",
            ["copy", "--quiet", "--dest-tls-verify=false"] + (login.map { ["--dest-creds", "\($0.user):\($0.password)"] } ?? [])
                + ["oci:\(layout):\(repository)", "docker://\(host)/\(repository)"])
        guard pushed.status == 0 else { throw PodmanError(message: "skopeo copy to the registry failed: \(pushed.output)") }
    }

    @discardableResult
    public func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try ToolRun.run(path, arguments)
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A TCP port on 127.0.0.1 free a moment ago (for the test services).
    package static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
