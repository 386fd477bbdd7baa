import SidecarCore
import SidecarWire

/// CheckDb and ReportDbError.
enum DatabaseHandlers {
    static func specs(databases: DatabaseService) -> [MethodSpec] {
        let coordinator = databases.coordinator
        return [
            .deferred("CheckDb") { (call, request: CheckDbRequest) in
                coordinator.check(path: request.path, mode: request.mode, maxErrors: Int(request.maxErrors), call.finish)
            },
            .deferred("ReportDbError") { (call, request: ReportDbErrorRequest) in
                coordinator.report(
                    path: request.path, clientID: request.clientID, message: request.message, sqliteCode: request.sqliteCode,
                    ok: request.ok, call.finish)
            },
        ]
    }
}
