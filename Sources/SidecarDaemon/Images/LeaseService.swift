import SidecarCore
import SidecarLoop
import SidecarImages
import SidecarStore

/// AcquireLease, ReleaseLease, ListLeases and expiry: the lease table in
/// memory, every change written to the state database before it is answered.
final class LeaseService {
    private var table: LeaseTable
    private let store: LeaseStore
    private let context: DaemonContext

    init(context: DaemonContext) throws {
        self.context = context
        store = LeaseStore(database: context.state)
        table = LeaseTable(try store.loadAll())
    }

    func acquire(target: String, holder: String, ttlSeconds: UInt32) throws -> LeaseRecord {
        var next = table
        // Read per call, so a reload's leases.max holds at once.
        next.maxLeases = context.config.leases.max
        let change: LeaseTable.Change
        do {
            change = try next.acquire(
                target: target, holder: holder, ttlSeconds: ttlSeconds, nowUnixMilliseconds: WallClock.unixMilliseconds(),
                newID: Self.newID)
        } catch .full(let max) {
            context.metrics.increment(.stateFull, label: "leases")
            throw LeaseError.full(max: max)
        }
        let lease: LeaseRecord
        switch change {
        case .created(let created):
            lease = created
            context.metrics.increment(.leases, label: "acquired")
        case .renewed(let renewed):
            lease = renewed
            context.metrics.increment(.leases, label: "renewed")
        }
        try store.save(lease)
        table = next
        return lease
    }

    func release(id: String) throws {
        var next = table
        let lease = try next.release(id: id)
        try store.delete(ids: [lease.id])
        table = next
        context.metrics.increment(.leases, label: "released")
    }

    func live() -> [LeaseRecord] {
        table.live(nowUnixMilliseconds: WallClock.unixMilliseconds())
    }

    func holds(any names: [String]) -> Bool {
        !table.holding(any: names, nowUnixMilliseconds: WallClock.unixMilliseconds()).isEmpty
    }

    /// Drops expired leases and tells the watchers.
    func sweep() {
        let expired = table.expire(nowUnixMilliseconds: WallClock.unixMilliseconds())
        guard !expired.isEmpty else { return }
        do {
            try store.delete(ids: expired.map(\.id))
        } catch {
            context.logger.error("could not delete \(expired.count) expired leases: \(error)")
        }
        for lease in expired {
            context.metrics.increment(.leases, label: "expired")
            context.events.publish(
                topic: "lease.expired", subject: lease.target, message: "lease \(lease.id) of \(lease.holder) on \(lease.target) expired",
                attributes: ["id": lease.id, "holder": lease.holder])
        }
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
