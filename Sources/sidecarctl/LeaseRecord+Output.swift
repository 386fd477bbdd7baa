import SidecarCore

/// How every command that shows a lease shows it.
extension LeaseRecord {
    var jsonObject: [String: Any] {
        var object: [String: Any] = [
            "id": id, "target": target, "holder": holder, "expires_unix_ms": expiresByTime ? expiresUnixMilliseconds : 0,
        ]
        if let process = holderProcess {
            object["holder_pid"] = process.pid
            object["holder_start_time"] = process.startTime
        }
        if let ownerUID { object["owner_uid"] = ownerUID }
        return object
    }

    /// "in 12m30s", "expired" for a lease the daemon has not swept yet, and
    /// "when pid 4121 ends" for one bound to a process: the first to come.
    var expiry: String {
        let whenProcessEnds = holderProcess.map { "when pid \($0.pid) ends" }
        guard expiresByTime else { return whenProcessEnds ?? "never" }
        let seconds = HumanText.secondsUntil(unixMilliseconds: expiresUnixMilliseconds)
        let byTime = seconds > 0 ? "in " + HumanText.span(seconds: seconds) : "expired"
        return whenProcessEnds.map { "\(byTime), or \($0)" } ?? byTime
    }
}
