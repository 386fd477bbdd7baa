/// The one routing table: every method of sidecar.v1.Sidecar (and the Debug
/// service) to its handler. Methods of issues that have not landed are
/// listed too, so they answer UNIMPLEMENTED with a clear message.
enum ServiceRoutes {
    static func table(server: Server, reloader: ConfigReloader, retries: RetryService, databases: DatabaseService) -> [MethodSpec] {
        let context = server.context
        return RetryHandlers.specs(retries: retries) + DatabaseHandlers.specs(databases: databases) + [
            HealthHandler.spec(server: server),
            ClassifyHandler.spec(context: context),
            MetricsHandler.spec(server: server),
            WatchHandler.spec(context: context),
            ReloadHandler.spec(reloader: reloader),
            DebugSleepHandler.spec(server: server),
            .notYetImplemented("EnsureImage"),
            .notYetImplemented("ListImages"),
            .notYetImplemented("AcquireLease"),
            .notYetImplemented("ReleaseLease"),
            .notYetImplemented("ListLeases"),
            .notYetImplemented("Prune", admin: true),
        ]
    }
}
