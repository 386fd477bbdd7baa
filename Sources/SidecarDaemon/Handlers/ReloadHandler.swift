import SidecarWire

enum ReloadHandler {
    static func spec(reloader: ConfigReloader) -> MethodSpec {
        .unary("Reload", admin: true) { (_, _: ReloadRequest) in try reloader.reload() }
    }
}
