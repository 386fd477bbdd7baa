import SidecarProtoC

public struct ReloadResponse: Equatable, Sendable {
    public var configPath: String
    public var needsRestart: [String]

    public init(configPath: String, needsRestart: [String]) {
        self.configPath = configPath
        self.needsRestart = needsRestart
    }
}

extension ReloadResponse: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ReloadResponse>) { sidecar__v1__reload_response__init(c) }

    package init(reading c: Sidecar__V1__ReloadResponse) {
        self.init(
            configPath: ProtobufCField.string(c.config_path),
            needsRestart: ProtobufCField.strings(c.needs_restart, count: c.n_needs_restart))
    }

    package func fill(_ c: inout Sidecar__V1__ReloadResponse, arena: PackArena) {
        c.config_path = arena.string(configPath)
        c.n_needs_restart = needsRestart.count
        c.needs_restart = arena.strings(needsRestart)
    }
}
