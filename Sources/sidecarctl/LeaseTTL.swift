import ArgumentParser
import SidecarCore

/// The `--ttl`/`--lease-ttl` flags: their one default and their reading.
enum LeaseTTL {
    static let defaultText = DurationText.format(Double(SidecarDefaults.leaseTTLSeconds))

    /// Whole seconds for the wire, rounded up so a short TTL never reads as
    /// 0 (which the daemon rejects).
    static func seconds(_ text: String, flag: String) throws -> UInt32 {
        guard let seconds = DurationText.parse(text), seconds > 0, seconds <= Double(UInt32.max) else {
            throw ValidationError("\(flag) must be a positive duration like 90s, 10m or 2h, got \"\(text)\"")
        }
        return UInt32(seconds.rounded(.up))
    }
}
