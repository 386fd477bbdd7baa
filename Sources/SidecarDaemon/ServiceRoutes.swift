/// The one routing table: every method of sidecar.v1.Sidecar (and the Debug
/// service) to its handler.
enum ServiceRoutes {
    static func table(
        server: Server, reloader: ConfigReloader, retries: RetryService, databases: DatabaseService, images: ImageService
    ) -> [MethodSpec] {
        let context = server.context
        return RetryHandlers.specs(retries: retries) + DatabaseHandlers.specs(databases: databases)
            + ImageHandlers.specs(images: images) + [
            HealthHandler.spec(server: server),
            ClassifyHandler.spec(context: context),
            MetricsHandler.spec(server: server),
            WatchHandler.spec(context: context),
            ReloadHandler.spec(reloader: reloader),
            DebugSleepHandler.spec(server: server),
        ]
    }
}
