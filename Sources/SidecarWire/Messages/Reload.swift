import SidecarProtoC

public struct ReloadRequest: WireMessage, Equatable {
    public init() {}

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        // No fields: empty bytes are the whole message, nothing to unpack.
        guard !wireBytes.isEmpty else { return }
        try ProtobufCField.unpack(
            wireBytes, name: "ReloadRequest",
            unpack: { sidecar__v1__reload_request__unpack(nil, $0, $1) },
            free: { sidecar__v1__reload_request__free_unpacked($0, nil) }
        ) { _ in () }
    }

    package func wireBytes() -> [UInt8] { [] }
}

public struct ReloadResponse: WireMessage, Equatable {
    public var configPath: String
    public var needsRestart: [String]

    public init(configPath: String, needsRestart: [String]) {
        self.configPath = configPath
        self.needsRestart = needsRestart
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "ReloadResponse",
            unpack: { sidecar__v1__reload_response__unpack(nil, $0, $1) },
            free: { sidecar__v1__reload_response__free_unpacked($0, nil) }
        ) { c in
            ReloadResponse(
                configPath: ProtobufCField.string(c.config_path),
                needsRestart: ProtobufCField.strings(c.needs_restart, count: c.n_needs_restart))
        }
    }

    package func wireBytes() -> [UInt8] {
        let arena = PackArena()
        var c = Sidecar__V1__ReloadResponse()
        sidecar__v1__reload_response__init(&c)
        c.config_path = arena.string(configPath)
        c.n_needs_restart = needsRestart.count
        c.needs_restart = arena.strings(needsRestart)
        return withExtendedLifetime(arena) {
            ProtobufCField.pack(
                &c, size: { sidecar__v1__reload_response__get_packed_size($0) },
                pack: { sidecar__v1__reload_response__pack($0, $1) })
        }
    }
}
