import SidecarClient

extension SidecarClient {
    /// The value of one series of the daemon's metrics, written as it is
    /// exposed (`sidecar_leases_total{event="released"}`); 0 for a series not
    /// exposed yet (a labelled counter appears at its first increment).
    func counter(_ series: String) async throws -> Int {
        let prefix = series + " "
        let line = try await metrics().split(separator: "\n").first { $0.hasPrefix(prefix) }
        return line.flatMap { Int(Double($0.dropFirst(prefix.count)) ?? -1) } ?? 0
    }
}
