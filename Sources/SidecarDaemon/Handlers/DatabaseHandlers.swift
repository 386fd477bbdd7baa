import SidecarCore
import SidecarWire

/// CheckDb and ReportDbError.
enum DatabaseHandlers {
    static func specs(databases: DatabaseService) -> [MethodSpec] {
        [
            .deferred("CheckDb") { (call, request: CheckDbRequest) in
                try databases.check(path: request.path, mode: request.mode, maxErrors: Int(request.maxErrors)) { answer in
                    switch answer {
                    case .success(let answer):
                        call.respond(CheckDbResponse(
                            result: answer.result, shared: answer.shared, reused: answer.reused, resolvedPath: answer.resolvedPath))
                    case .failure(let error):
                        call.fail(error)
                    }
                }
            },
            .deferred("ReportDbError") { (call, request: ReportDbErrorRequest) in
                try databases.report(request) { answer in
                    switch answer {
                    case .success(let response): call.respond(response)
                    case .failure(let error): call.fail(error)
                    }
                }
            },
        ]
    }
}
