import SidecarWire

enum ReloadHandler {
    static func spec(reloader: ConfigReloader) -> MethodSpec {
        .deferred("Reload", admin: true) { (call, _: ReloadRequest) in
            reloader.reload { result in
                switch result {
                case .success(let response):
                    call.respond(response)
                case .failure(let error):
                    reloader.reject(error)
                    call.fail(StatusMapping.status(for: error))
                }
            }
        }
    }
}
