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

    /// By hand, in field order. Health's calls are answered through
    /// `HealthAnswer`, which writes these same bytes in the same three parts.
    package func encode(into writer: ProtobufWriter) {
        writer.string(1, version)
        encodeMoving(into: writer)
        encodeSettled(into: writer)
    }

    /// Fields 2 to 6: the ones that change from one call to the next.
    @inline(__always)
    fileprivate func encodeMoving(into writer: ProtobufWriter) {
        HealthAnswer.writeMoving(
            uptimeSeconds: uptimeSeconds, connections: connections, inflightCalls: inflightCalls,
            loopLagMilliseconds: loopLagMilliseconds, loopLagMaxMilliseconds: loopLagMaxMilliseconds, into: writer)
    }

    /// Fields 7 to 15: the ones that stay the same for many calls.
    fileprivate func encodeSettled(into writer: ProtobufWriter) {
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

/// Health's answer as the daemon writes it on every call: the version and
/// the settled fields (pid, state, presence, fleet) encoded ahead, and only
/// the moving ones (uptime, counts, lag) written per call. Building and
/// encoding a whole `HealthResponse` per call was half of a call's cost.
/// The bytes are `HealthResponse.encode(into:)`'s.
///
/// A class holding its buffers in `let`s, kept by its owner for good: a
/// struct of arrays, copied out of the owner per call, cost a retain and a
/// release per array.
package final class HealthAnswer {
    private let versionField = ProtobufWriter(capacity: 32)
    private let settledFields = ProtobufWriter(capacity: 128)

    package init() {}

    /// Takes the settled fields (and version) of `response`; its moving
    /// fields are not used.
    package func settle(from response: HealthResponse) {
        versionField.reset()
        versionField.string(1, response.version)
        settledFields.reset()
        response.encodeSettled(into: settledFields)
    }

    @inline(__always)
    package func write(
        uptimeSeconds: Double, connections: UInt32, inflightCalls: UInt32, loopLagMilliseconds: Double,
        loopLagMaxMilliseconds: Double, into writer: ProtobufWriter
    ) {
        writer.append(versionField)
        Self.writeMoving(
            uptimeSeconds: uptimeSeconds, connections: connections, inflightCalls: inflightCalls,
            loopLagMilliseconds: loopLagMilliseconds, loopLagMaxMilliseconds: loopLagMaxMilliseconds, into: writer)
        writer.append(settledFields)
    }

    @inline(__always)
    fileprivate static func writeMoving(
        uptimeSeconds: Double, connections: UInt32, inflightCalls: UInt32, loopLagMilliseconds: Double,
        loopLagMaxMilliseconds: Double, into writer: ProtobufWriter
    ) {
        writer.double(2, uptimeSeconds)
        writer.uint32(3, connections)
        writer.uint32(4, inflightCalls)
        writer.double(5, loopLagMilliseconds)
        writer.double(6, loopLagMaxMilliseconds)
    }
}
