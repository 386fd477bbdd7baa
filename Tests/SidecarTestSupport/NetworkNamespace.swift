import Foundation
import Glibc

/// A network namespace of its own, joined to the root one by a veth pair:
/// `hostAddress` (10.231.N.1/30) on the root side, `insideAddress`
/// (10.231.N.2/30) inside, both ends and the inside `lo` up. A process run
/// through `command(_:)` sees only that link (and its own loopback); a Unix
/// socket is a path in the file system, so one made inside is reached from
/// outside as ever.
///
/// `cut()` makes the link a black hole, `restore()` mends it. The cut is two
/// iptables DROP rules inside the namespace, on its end of the veth (INPUT
/// from it, OUTPUT to it): packets vanish in both directions, TCP on either
/// side keeps retransmitting into silence, and a new connect just times out,
/// as when a cable or a switch goes. Not `ip link set ... down`, which is no
/// silent drop here: the root side's connected route goes with the link,
/// so replies leave by the default route (eth0), and a connect from inside
/// fails after about a second with EHOSTUNREACH (measured on this Debian 12
/// VM). Not netem (`tc qdisc ... netem loss 100%`) either: this kernel has no
/// sch_netem (nor tc's gact drop action). The rules live in the namespace's
/// own tables, so the root namespace's firewall is never touched, and they
/// go with the namespace.
///
/// Names are random per instance (`sclXXXXXX`, interfaces `sclXXXXXXh` and
/// `sclXXXXXXn`, under the kernel's 15 characters) and the subnet is one not
/// in use on this host. Needs root. `deinit` deletes the veth pair and the
/// namespace; a process still inside keeps the (nameless) namespace alive
/// until it ends, so stop what runs inside first.
public final class NetworkNamespace {
    public static let ip = "/usr/bin/ip"
    public static let iptables = "/usr/sbin/iptables"
    /// Every subnet a NetworkNamespace takes is in here: what a server that
    /// should let the namespaces in trusts (PostgresService's pg_hba.conf).
    public static let subnets = "10.231.0.0/16"

    public let name: String
    /// The veth end in the root namespace, and the one inside.
    public let hostInterface: String
    public let insideInterface: String
    /// The root side's address (10.231.N.1): what a process inside
    /// connects to to reach a server in the root namespace.
    public let hostAddress: String
    /// The inside address (10.231.N.2): where the namespace's packets come from.
    public let insideAddress: String
    public let prefixLength = 30
    public private(set) var isCut = false

    public static var isRoot: Bool { geteuid() == 0 }

    /// Root, `ip` and `iptables` are here, and `ip netns add` and `del` work
    /// (tried once, on a throwaway namespace).
    public static let isAvailable: Bool = {
        guard isRoot, FileManager.default.isExecutableFile(atPath: ip), FileManager.default.isExecutableFile(atPath: iptables)
        else { return false }
        let probe = "sclprobe\(UUID().uuidString.prefix(6).lowercased())"
        guard let added = try? ToolRun.run(ip, ["netns", "add", probe]), added.status == 0 else { return false }
        let deleted = try? ToolRun.run(ip, ["netns", "del", probe])
        return deleted?.status == 0
    }()

    /// Makes the namespace, the veth pair, the addresses, and brings it all up.
    public init() throws {
        let suffix = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(6).lowercased()
        name = "scl\(suffix)"
        hostInterface = "scl\(suffix)h"
        insideInterface = "scl\(suffix)n"
        let subnet = try Self.unusedSubnet()
        hostAddress = "10.231.\(subnet).1"
        insideAddress = "10.231.\(subnet).2"
        // Every property is set: a throw from here on runs deinit, which
        // deletes whatever was made.
        try Self.ip(["netns", "add", name])
        try Self.ip(["link", "add", hostInterface, "type", "veth", "peer", "name", insideInterface])
        try Self.ip(["link", "set", insideInterface, "netns", name])
        try Self.ip(["addr", "add", "\(hostAddress)/\(prefixLength)", "dev", hostInterface])
        try Self.ip(["link", "set", hostInterface, "up"])
        try inside(Self.ip, ["addr", "add", "\(insideAddress)/\(prefixLength)", "dev", insideInterface])
        try inside(Self.ip, ["link", "set", insideInterface, "up"])
        try inside(Self.ip, ["link", "set", "lo", "up"])
        // Every address of the root namespace (another namespace's host
        // side, where a shared service listens) is reached through the link.
        try inside(Self.ip, ["route", "add", "default", "via", hostAddress])
    }

    /// `argv` run inside the namespace: `ip netns exec NAME argv...`. ip
    /// execs the program (no fork), so the process started from this argv
    /// has the program's PID.
    public func command(_ argv: [String]) -> [String] {
        [Self.ip, "netns", "exec", name] + argv
    }

    /// Runs a tool inside the namespace to its end; stdout and stderr together.
    @discardableResult
    public func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let argv = command([path] + arguments)
        return try ToolRun.run(argv[0], Array(argv.dropFirst()))
    }

    /// Every packet to or from the namespace's end of the link is dropped,
    /// silently (see the type's comment). Idempotent.
    public func cut() throws {
        guard !isCut else { return }
        try inside(Self.iptables, ["-w", "-I", "INPUT", "-i", insideInterface, "-j", "DROP"])
        isCut = true
        try inside(Self.iptables, ["-w", "-I", "OUTPUT", "-o", insideInterface, "-j", "DROP"])
    }

    /// The link carries packets again. Idempotent.
    public func restore() throws {
        guard isCut else { return }
        // -D of a rule that is not there (a cut that failed half way) fails: ignored.
        _ = try? run(Self.iptables, ["-w", "-D", "OUTPUT", "-o", insideInterface, "-j", "DROP"])
        try inside(Self.iptables, ["-w", "-D", "INPUT", "-i", insideInterface, "-j", "DROP"])
        isCut = false
    }

    deinit {
        // Deleting one end deletes the pair, wherever the other end is.
        _ = try? ToolRun.run(Self.ip, ["link", "del", hostInterface])
        _ = try? ToolRun.run(Self.ip, ["netns", "del", name])
    }

    private func inside(_ path: String, _ arguments: [String]) throws {
        let result = try run(path, arguments)
        guard result.status == 0 else {
            throw PodmanError(message: "in network namespace \(name): \(path) \(arguments.joined(separator: " ")) failed: \(result.output)")
        }
    }

    private static func ip(_ arguments: [String]) throws {
        let result = try ToolRun.run(ip, arguments)
        guard result.status == 0 else {
            throw PodmanError(message: "\(ip) \(arguments.joined(separator: " ")) failed: \(result.output)")
        }
    }

    /// An N (1...254) such that nothing on this host has an address or a
    /// route in 10.231.N.0/24.
    private static func unusedSubnet() throws -> Int {
        let addresses = try ToolRun.run(ip, ["-4", "-o", "addr", "show"]).output
        let routes = try ToolRun.run(ip, ["-4", "route", "show", "table", "all"]).output
        let seen = addresses + routes
        let free = (1...254).filter { !seen.contains("10.231.\($0).") }
        guard let subnet = free.randomElement() else { throw PodmanError(message: "no free subnet in \(subnets)") }
        return subnet
    }
}
