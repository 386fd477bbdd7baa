import SidecarCore

/// The leases held now, by id. Pure: the caller persists what changes and
/// passes the wall-clock time in. Re-acquiring by the same holder for the
/// same target (and the same holder process, if any) renews the lease it
/// already has (same id).
public struct LeaseTable: Sendable {
    public static let maxTTLSeconds: UInt32 = 7 * 24 * 3600

    private(set) public var leases: [String: LeaseRecord] = [:]
    /// The most leases held at once (`leases.max`).
    public var maxLeases = Int.max

    public init(_ leases: [LeaseRecord] = []) {
        for lease in leases { self.leases[lease.id] = lease }
    }

    public enum Change: Sendable, Equatable {
        case created(LeaseRecord)
        case renewed(LeaseRecord)
    }

    /// Takes or renews a lease. `newID` names a new lease (random in the
    /// daemon, predictable in tests). A lease bound to `holderProcess` may
    /// have no ttl (0): it then ends only with that process.
    /// A lease is its taker's (`owner`): another uid asking with the same
    /// target and holder gets a lease of its own.
    public mutating func acquire(
        target: String, holder: String, holderProcess: ProcessIdentity? = nil, ttlSeconds: UInt32, nowUnixMilliseconds: Int64,
        owner: UInt32? = nil, newID: () -> String
    ) throws(LeaseError) -> Change {
        if target.isEmpty { throw .invalid("a lease needs a target (an image name or ref)") }
        if holder.isEmpty { throw .invalid("a lease needs a holder") }
        if ttlSeconds == 0 && holderProcess == nil {
            throw .invalid("a lease needs a ttl of at least 1 second, or a holder process to end with")
        }
        if ttlSeconds > Self.maxTTLSeconds { throw .invalid("a lease ttl is at most \(Self.maxTTLSeconds) seconds (7 days)") }
        let expires = ttlSeconds == 0 ? LeaseRecord.noExpiry : nowUnixMilliseconds + Int64(ttlSeconds) * 1000
        if var held = leases.values.first(where: {
            $0.target == target && $0.holder == holder && $0.holderProcess == holderProcess && $0.ownerUID == owner
                && $0.expiresUnixMilliseconds > nowUnixMilliseconds
        }) {
            held.expiresUnixMilliseconds = expires
            leases[held.id] = held
            return .renewed(held)
        }
        guard leases.count < maxLeases else { throw .full(max: maxLeases) }
        let lease = LeaseRecord(
            id: newID(), target: target, holder: holder, expiresUnixMilliseconds: expires, holderProcess: holderProcess,
            ownerUID: owner)
        leases[lease.id] = lease
        return .created(lease)
    }

    /// Ends a lease; releasing one that already expired is not an error.
    public mutating func release(id: String, caller: Caller = .daemon) throws(LeaseError) -> LeaseRecord {
        guard let lease = leases[id] else { throw .unknown(id) }
        guard caller.mayTouch(ownedBy: lease.ownerUID) else {
            throw .notOwner(NotOwnerError(what: "lease \(id)", owner: lease.ownerUID ?? 0, caller: caller.uid))
        }
        leases[id] = nil
        return lease
    }

    /// Removes and returns the leases bound to `process`, which has ended.
    public mutating func end(heldBy process: ProcessIdentity) -> [LeaseRecord] {
        let ended = leases.values.filter { $0.holderProcess == process }
        for lease in ended { leases[lease.id] = nil }
        return ended.sorted { $0.id < $1.id }
    }

    /// The processes that hold leases now, each once.
    public var holderProcesses: Set<ProcessIdentity> { Set(leases.values.compactMap(\.holderProcess)) }

    /// Removes and returns the leases past their expiry.
    public mutating func expire(nowUnixMilliseconds: Int64) -> [LeaseRecord] {
        let expired = leases.values.filter { $0.expiresUnixMilliseconds <= nowUnixMilliseconds }
        for lease in expired { leases[lease.id] = nil }
        return expired.sorted { $0.expiresUnixMilliseconds < $1.expiresUnixMilliseconds }
    }

    /// The live leases whose target is any of `names` (an image is leased by
    /// its name or its ref).
    public func holding(any names: [String], nowUnixMilliseconds: Int64) -> [LeaseRecord] {
        leases.values.filter { names.contains($0.target) && $0.expiresUnixMilliseconds > nowUnixMilliseconds }
    }

    public func live(nowUnixMilliseconds: Int64) -> [LeaseRecord] {
        leases.values.filter { $0.expiresUnixMilliseconds > nowUnixMilliseconds }
            .sorted { ($0.expiresUnixMilliseconds, $0.id) < ($1.expiresUnixMilliseconds, $1.id) }
    }
}

public enum LeaseError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)
    case unknown(String)
    /// `max` leases are held: a new one is refused (a renewal is not).
    case full(max: Int)
    /// The process a lease was to be bound to does not run (or its pid now
    /// names another process).
    case holderNotRunning(ProcessIdentity)
    /// A non-admin asked to end another uid's lease.
    case notOwner(NotOwnerError)

    public var description: String {
        switch self {
        case .invalid(let reason): reason
        case .unknown(let id): "no lease \"\(id)\" (it may have expired)"
        case .full(let max): "\(max) leases are held (leases.max)"
        case .holderNotRunning(let process):
            "no process \(process.pid) started at \(process.startTime) runs in the daemon's pid namespace "
                + "(it ended, or its pid was reused): the lease would end at once"
        case .notOwner(let refusal): refusal.description
        }
    }
}
