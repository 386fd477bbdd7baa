import SidecarConfig

/// A part of the daemon with a lifetime of its own. `Daemon.serve` starts
/// every service once the socket listens, tells each of every config a
/// reload applies (after `DaemonContext` has it), and closes them all at
/// shutdown, each in one loop over the services. What a service answers is
/// in `ServiceRoutes`.
protocol DaemonService: AnyObject {
    func start() throws
    func configure(_ config: DaemonConfig)
    func close()
}

extension DaemonService {
    func start() throws {}
    func configure(_ config: DaemonConfig) {}
    func close() {}
}
