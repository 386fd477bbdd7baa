import SidecarProtoC

public struct HealthResponse: Equatable, Sendable {
    public var version: String
    public var uptimeSeconds: Double
    public var connections: UInt32
    public var inflightCalls: UInt32
    public var loopLagMilliseconds: Double
    public var loopLagMaxMilliseconds: Double
    public var pid: UInt32
    public var state: String
    /// "events", or "ttl: " and why presence is not kept by events.
    public var imagePresence: String
    /// Fleet mode; nil when off.
    public var fleet: FleetHealth?

    public init(
        version: String, uptimeSeconds: Double, connections: UInt32, inflightCalls: UInt32,
        loopLagMilliseconds: Double, loopLagMaxMilliseconds: Double, pid: UInt32, state: String, imagePresence: String = "",
        fleet: FleetHealth? = nil
    ) {
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.connections = connections
        self.inflightCalls = inflightCalls
        self.loopLagMilliseconds = loopLagMilliseconds
        self.loopLagMaxMilliseconds = loopLagMaxMilliseconds
        self.pid = pid
        self.state = state
        self.imagePresence = imagePresence
        self.fleet = fleet
    }
}

/// How this host's link to the fleet's PostgreSQL stands.
public struct FleetHealth: Equatable, Sendable {
    /// "connecting", "connected" or "degraded".
    public var state: String
    public var hostID: String
    /// Why it is degraded; empty otherwise.
    public var reason: String
    /// Since when it is degraded (Unix seconds); 0 otherwise.
    public var sinceUnixSeconds: Double
    /// Builds this host holds the claim of: "NAME (epoch N)".
    public var claims: [String]
    /// Builds it waits on another host for: "NAME (claimed by HOST)".
    public var waits: [String]

    public init(
        hostID: String, state: String, reason: String, sinceUnixSeconds: Double, claims: [String] = [], waits: [String] = []
    ) {
        self.hostID = hostID
        self.state = state
        self.reason = reason
        self.sinceUnixSeconds = sinceUnixSeconds
        self.claims = claims
        self.waits = waits
    }
}

extension HealthResponse: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__HealthResponse>) { sidecar__v1__health_response__init(c) }

    package init(reading c: Sidecar__V1__HealthResponse) {
        let fleetState = ProtobufCField.string(c.fleet_state)
        self.init(
            version: ProtobufCField.string(c.version), uptimeSeconds: c.uptime_seconds,
            connections: c.connections, inflightCalls: c.inflight_calls,
            loopLagMilliseconds: c.loop_lag_ms, loopLagMaxMilliseconds: c.loop_lag_max_ms,
            pid: c.pid, state: ProtobufCField.string(c.state), imagePresence: ProtobufCField.string(c.image_presence),
            fleet: fleetState.isEmpty ? nil : FleetHealth(
                hostID: ProtobufCField.string(c.fleet_host_id), state: fleetState,
                reason: ProtobufCField.string(c.fleet_reason), sinceUnixSeconds: Double(c.fleet_degraded_since_unix_ms) / 1000,
                claims: ProtobufCField.strings(c.fleet_claims, count: c.n_fleet_claims),
                waits: ProtobufCField.strings(c.fleet_waits, count: c.n_fleet_waits)))
    }

    package func fill(_ c: inout Sidecar__V1__HealthResponse, arena: PackArena) {
        c.version = arena.string(version)
        c.uptime_seconds = uptimeSeconds
        c.connections = connections
        c.inflight_calls = inflightCalls
        c.loop_lag_ms = loopLagMilliseconds
        c.loop_lag_max_ms = loopLagMaxMilliseconds
        c.pid = pid
        c.state = arena.string(state)
        c.image_presence = arena.string(imagePresence)
        if let fleet {
            c.fleet_state = arena.string(fleet.state)
            c.fleet_host_id = arena.string(fleet.hostID)
            c.fleet_reason = arena.string(fleet.reason)
            c.fleet_degraded_since_unix_ms = Int64(fleet.sinceUnixSeconds * 1000)
            c.n_fleet_claims = fleet.claims.count
            c.fleet_claims = arena.strings(fleet.claims)
            c.n_fleet_waits = fleet.waits.count
            c.fleet_waits = arena.strings(fleet.waits)
        }
    }

    package func wireBytes() -> [UInt8] {
        let writer = ProtobufWriter(capacity: 64)
        encode(into: writer)
        return writer.bytes
    }

    /// By hand, in field order: every call of Health goes through here.
    package func encode(into writer: ProtobufWriter) {
        writer.string(1, version)
        writer.double(2, uptimeSeconds)
        writer.uint32(3, connections)
        writer.uint32(4, inflightCalls)
        writer.double(5, loopLagMilliseconds)
        writer.double(6, loopLagMaxMilliseconds)
        writer.uint32(7, pid)
        writer.string(8, state)
        writer.string(9, imagePresence)
        if let fleet {
            writer.string(10, fleet.state)
            writer.string(11, fleet.hostID)
            writer.string(12, fleet.reason)
            writer.int64(13, Int64(fleet.sinceUnixSeconds * 1000))
            for claim in fleet.claims { writer.alwaysString(14, claim) }
            for wait in fleet.waits { writer.alwaysString(15, wait) }
        }
    }
}
