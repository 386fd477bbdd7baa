import Foundation
import SidecarConfig
import SidecarCore
import SidecarFleet
import SidecarLoop
import SidecarWire

/// Fleet mode's link to PostgreSQL as a daemon service: started with the
/// others, its losses and returns told in the log, as events
/// (`fleet.degraded`, `fleet.restored`) and in the metrics.
final class FleetService: DaemonService {
    let link: FleetLink
    let hostID: String
    let settings: DaemonConfig.FleetConfig
    private let context: DaemonContext
    /// Told when the link is usable again (or for the first time).
    var onRestored: [() -> Void] = []
    /// The fleet builds this host claims and waits on (set when builds are shared).
    var buildActivity: () -> (claims: [String], waits: [String]) = { ([], []) }

    /// Nil when the config has no `[fleet] postgres`.
    static func make(loop: EventLoop, context: DaemonContext) throws -> FleetService? {
        let fleet = context.config.fleet
        guard fleet.enabled else { return nil }
        return try FleetService(loop: loop, context: context, fleet: fleet)
    }

    private init(loop: EventLoop, context: DaemonContext, fleet: DaemonConfig.FleetConfig) throws {
        self.context = context
        settings = fleet
        hostID = fleet.hostID.isEmpty ? ProcessInfo.processInfo.hostName : fleet.hostID
        var password: String?
        if !fleet.passwordFile.isEmpty {
            // Read once, before the loop runs.
            guard let text = try? String(contentsOfFile: fleet.passwordFile, encoding: .utf8) else {
                throw SidecarError(.failedPrecondition, "fleet.password_file \(fleet.passwordFile) cannot be read")
            }
            password = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        }
        let timeout = UInt64(fleet.queryTimeoutSeconds * 1000)
        let parameters: [(String, String)]
        do {
            parameters = try FleetLink.connectionParameters(
                fleet.postgres, password: password, hostID: hostID, statementTimeoutMilliseconds: timeout)
        } catch {
            throw SidecarError(.invalidArgument, "fleet.postgres \(error)")
        }
        link = try FleetLink(loop: loop, parameters: parameters, connectTimeoutMilliseconds: timeout)
    }

    func start() throws {
        link.onDegraded = { [unowned self] reason in
            context.logger.warning("fleet: PostgreSQL unreachable, answering from this host (degraded_retry = \(settings.degradedRetry.rawValue)): \(reason)")
            context.metrics.increment(.fleetTransitions, label: "degraded")
            context.events.publish(topic: "fleet.degraded", subject: hostID, message: reason)
        }
        link.onRestored = { [unowned self] in
            context.logger.info("fleet: connected to PostgreSQL as host \(hostID)")
            context.metrics.increment(.fleetTransitions, label: "restored")
            context.events.publish(topic: "fleet.restored", subject: hostID, message: "connected to the fleet's PostgreSQL")
            for listener in onRestored { listener() }
        }
        link.start()
    }

    func configure(_ config: DaemonConfig) {
        if config.fleet != settings {
            context.logger.warning("fleet settings changed in the config; they take effect at the next start")
        }
    }

    func close() {
        link.close()
    }

    /// For Health and `sidecarctl fleet status`.
    var health: FleetHealth {
        let (claims, waits) = buildActivity()
        let (state, reason, since): (String, String, Double) = switch link.status {
        case .connecting: ("connecting", "", 0)
        case .connected: ("connected", "", 0)
        case .degraded(let reason, let since): ("degraded", reason, since)
        }
        return FleetHealth(hostID: hostID, state: state, reason: reason, sinceUnixSeconds: since, claims: claims, waits: waits)
    }
}
