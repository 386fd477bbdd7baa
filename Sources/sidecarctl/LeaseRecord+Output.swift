import SidecarCore

/// How every command that shows a lease shows it.
extension LeaseRecord {
    var jsonObject: [String: Any] {
        ["id": id, "target": target, "holder": holder, "expires_unix_ms": expiresUnixMilliseconds]
    }

    /// "12m30s", or "expired" for a lease the daemon has not swept yet.
    var expiresIn: String {
        let seconds = HumanText.secondsUntil(unixMilliseconds: expiresUnixMilliseconds)
        return seconds > 0 ? HumanText.span(seconds: seconds) : "expired"
    }
}
