import SidecarConfig
import SidecarCore
import SidecarImages
import SidecarLoop
import SidecarStore

/// AcquireLease, ReleaseLease, ListLeases, expiry, and the end of leases
/// whose holder process ended: the lease table in memory, every change
/// written to the state database before it is answered.
final class LeaseService {
    private var table: LeaseTable
    private let store: LeaseStore
    private let context: DaemonContext
    private var holders: ProcessWatcher!

    init(loop: EventLoop, context: DaemonContext) throws {
        self.context = context
        store = LeaseStore(database: context.state)
        table = LeaseTable(try store.loadAll())
        holders = try ProcessWatcher(loop: loop, method: ProcessWatcher.Method(context.config.leases.holderWatch)) {
            [unowned self] process in holderEnded(process)
        }
        // Holders that ended while the daemon was down (or whose pid now
        // names another process) end their leases now.
        for process in table.holderProcesses.sorted(by: { $0.pid < $1.pid }) where !holders.watch(process) {
            holderEnded(process)
        }
        let how = holders.method == .pidfd ? "a pidfd each" : "/proc checked every \(ProcessWatcher.defaultPollMilliseconds) ms"
        context.logger.info("lease holder processes: \(how)\(holders.fallbackReason.map { " (\($0))" } ?? "")")
    }

    /// How the end of a holder process is noticed, for health and the log.
    var holderWatch: String {
        holders.method.rawValue + (holders.fallbackReason.map { " (\($0))" } ?? "")
    }

    func acquire(
        target: String, holder: String, holderProcess: ProcessIdentity? = nil, ttlSeconds: UInt32, caller: Caller
    ) throws -> LeaseRecord {
        if let process = holderProcess { try checkHolder(process) }
        var next = table
        // Read per call, so a reload's leases.max holds at once.
        next.maxLeases = context.config.leases.max
        let change: LeaseTable.Change
        do {
            change = try next.acquire(
                target: target, holder: holder, holderProcess: holderProcess, ttlSeconds: ttlSeconds,
                nowUnixMilliseconds: WallClock.unixMilliseconds(), owner: caller.uid, newID: Self.newID)
        } catch {
            if case .full = error { context.metrics.increment(.stateFull, label: "leases") }
            throw error
        }
        let lease: LeaseRecord
        let label: String
        switch change {
        case .created(let created):
            lease = created
            label = "acquired"
        case .renewed(let renewed):
            lease = renewed
            label = "renewed"
        }
        // Watched before it is written: a lease is never stored for a
        // process that is already gone.
        if let process = holderProcess {
            let watchedBefore = holders.watched.contains(process)
            guard holders.watch(process) else { throw LeaseError.holderNotRunning(process) }
            do {
                try store.save(lease)
            } catch {
                if !watchedBefore { holders.unwatch(process) }
                throw error
            }
        } else {
            try store.save(lease)
        }
        table = next
        context.metrics.increment(.leases, label: label)
        return lease
    }

    /// Throws unless `process` names a running process: before a lease is
    /// taken for it, or a job is started whose answer would take one.
    func checkHolder(_ process: ProcessIdentity) throws {
        guard process.pid > 0 else { throw LeaseError.invalid("holder_pid \(process.pid) is not a process id") }
        guard process.startTime != 0 else {
            throw LeaseError.invalid("holder_pid needs holder_start_time (field 22 of /proc/\(process.pid)/stat)")
        }
        guard process.isRunning else { throw LeaseError.holderNotRunning(process) }
    }

    func release(id: String, caller: Caller) throws {
        var next = table
        let lease = try next.release(id: id, caller: caller)
        try store.delete(ids: [lease.id])
        table = next
        unwatchIfUnheld(lease.holderProcess)
        context.metrics.increment(.leases, label: "released")
    }

    func live() -> [LeaseRecord] {
        table.live(nowUnixMilliseconds: WallClock.unixMilliseconds())
    }

    /// The live leases `caller` may see: all for an admin, else its own.
    func live(visibleTo caller: Caller) -> [LeaseRecord] {
        live().filter { caller.mayTouch(ownedBy: $0.ownerUID) }
    }

    func holds(any names: [String]) -> Bool {
        !table.holding(any: names, nowUnixMilliseconds: WallClock.unixMilliseconds()).isEmpty
    }

    /// Drops expired leases and tells the watchers.
    func sweep() {
        let expired = table.expire(nowUnixMilliseconds: WallClock.unixMilliseconds())
        guard !expired.isEmpty else { return }
        end(expired, label: "expired", topic: "lease.expired") { "lease \($0.id) of \($0.holder) on \($0.target) expired" }
    }

    func close() {
        holders.close()
    }

    /// The holder process of some leases ended (or was gone at start).
    private func holderEnded(_ process: ProcessIdentity) {
        let ended = table.end(heldBy: process)
        guard !ended.isEmpty else { return }
        end(ended, label: "holder_exited", topic: "lease.holder_exited") {
            "lease \($0.id) of \($0.holder) on \($0.target) ended: its holder process \(process.pid) exited"
        }
    }

    /// Deletes leases already gone from the table, and says so.
    private func end(_ leases: [LeaseRecord], label: String, topic: String, message: (LeaseRecord) -> String) {
        do {
            try store.delete(ids: leases.map(\.id))
        } catch {
            context.logger.error("could not delete \(leases.count) \(label) leases: \(error)")
        }
        for lease in leases {
            unwatchIfUnheld(lease.holderProcess)
            context.metrics.increment(.leases, label: label)
            var attributes = ["id": lease.id, "holder": lease.holder]
            if let process = lease.holderProcess { attributes["holder_pid"] = String(process.pid) }
            context.events.publish(topic: topic, subject: lease.target, message: message(lease), attributes: attributes)
        }
    }

    private func unwatchIfUnheld(_ process: ProcessIdentity?) {
        guard let process, !table.holderProcesses.contains(process) else { return }
        holders.unwatch(process)
    }

    private static func newID() -> String {
        let high = UInt64.random(in: .min ... .max)
        let low = UInt32.random(in: .min ... .max)
        return "lease-" + hex(high, width: 16) + hex(UInt64(low), width: 8)
    }

    private static func hex(_ value: UInt64, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

extension ProcessWatcher.Method {
    init(_ setting: DaemonConfig.LeasesConfig.HolderWatch) {
        switch setting {
        case .pidfd: self = .pidfd
        case .poll: self = .poll
        }
    }
}
