import Foundation
import Glibc

/// A real PostgreSQL (Debian 12's `postgresql`, version 15) on 127.0.0.1 with
/// its cluster in a temp folder, a database "sidecar", trust auth for user
/// "postgres", and `query` through psql.
///
/// `extraListenAddresses` makes it listen on those addresses too (a
/// NetworkNamespace's `hostAddress`, for a daemon inside the namespace), and
/// lets clients from `trustedNetworks` in (trust, as on 127.0.0.1). Each
/// address must be on an interface when the server starts.
///
/// PostgreSQL refuses to run as root, and the tests do: the temp folder
/// belongs to user `postgres`, and initdb and pg_ctl run as it (runuser).
/// fsync and synchronous_commit stay on: what the daemon says is durable is
/// measured against this server, and `stop(immediate:)` then `start()` is a
/// crash of the server without losing what it acknowledged.
///
/// pg_ctl daemonizes the postmaster, so it is no child of the test process:
/// `deinit` stops it (and SIGKILLs it when pg_ctl cannot). PID 1 here reaps
/// no orphans, so a stopped postmaster may linger as a zombie (state Z): it
/// is dead. Every tool here is spawned with no descriptor but 0, 1 and 2:
/// Foundation's Process leaves its child a socket whose closing is how it
/// learns the child ended, and a postmaster that kept it would make
/// `pg_ctl start` under Process never end.
public final class PostgresService {
    public static let binaries = "/usr/lib/postgresql/15/bin"
    public static let psql = "/usr/bin/psql"

    public let directory: String
    public let port: Int
    /// Where the server's Unix socket is (`-k`); tests connect over TCP.
    public let socketDirectory: String
    public let host = "127.0.0.1"
    public let database = "sidecar"
    public let user = "postgres"
    /// Addresses listened on besides `host`.
    public let extraListenAddresses: [String]
    /// Networks whose clients pg_hba.conf trusts, when there are extra addresses.
    public let trustedNetworks: [String]
    /// The server's log (pg_ctl -l): named by every error about the server.
    public let logPath: String
    private let dataDirectory: String

    public static var isInstalled: Bool {
        ["initdb", "pg_ctl", "postgres"].allSatisfy { FileManager.default.isExecutableFile(atPath: binaries + "/" + $0) }
            && FileManager.default.isExecutableFile(atPath: psql)
            && FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser")
    }

    /// libpq's keyword/value form: `host=127.0.0.1 port=PORT dbname=sidecar user=postgres`.
    public var connectionString: String { "host=\(host) port=\(port) dbname=\(database) user=\(user)" }

    /// The same for another address the server listens on:
    /// `hostaddr=ADDRESS port=PORT dbname=sidecar user=postgres`.
    public func connectionString(hostaddr address: String) -> String {
        "hostaddr=\(address) port=\(port) dbname=\(database) user=\(user)"
    }

    /// Makes a cluster, starts it, waits until it takes connections (30 s at
    /// most) and creates the database "sidecar". `extraListenAddresses`
    /// and `trustedNetworks`: see the type's comment.
    public init(extraListenAddresses: [String] = [], trustedNetworks: [String] = [NetworkNamespace.subnets]) throws {
        self.extraListenAddresses = extraListenAddresses
        self.trustedNetworks = trustedNetworks
        directory = "/tmp/pg-\(UUID().uuidString.prefix(8))"
        dataDirectory = directory + "/data"
        socketDirectory = directory + "/socket"
        logPath = directory + "/postgres.log"
        port = RegistryService.freePort()
        // Every property is set: a throw from here on runs deinit, which
        // stops what started and removes the folder.
        try FileManager.default.createDirectory(atPath: socketDirectory, withIntermediateDirectories: true)
        let owner = try Self.run("/usr/bin/chown", ["-R", "postgres:postgres", directory], in: directory)
        guard owner.status == 0 else { throw PodmanError(message: "chown of \(directory) to postgres failed: \(owner.output)") }
        let made = try asPostgres("initdb", [
            "-D", dataDirectory, "-A", "trust", "-U", user, "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions",
        ])
        guard made.status == 0 else { throw PodmanError(message: "initdb failed: \(made.output)") }
        if !extraListenAddresses.isEmpty {
            // Appended as root: the file keeps its owner (postgres) and mode.
            let lines = trustedNetworks.map { "host all all \($0) trust\n" }.joined()
            guard let hba = FileHandle(forWritingAtPath: dataDirectory + "/pg_hba.conf") else {
                throw PodmanError(message: "cannot open \(dataDirectory)/pg_hba.conf")
            }
            defer { try? hba.close() }
            try hba.seekToEnd()
            try hba.write(contentsOf: Data(lines.utf8))
        }
        try start()
        let created = try Self.run(Self.psql, psqlArguments(database: "postgres") + ["-c", "CREATE DATABASE \(database)"], in: directory)
        guard created.status == 0 else { throw PodmanError(message: "CREATE DATABASE \(database) failed: \(created.errors); see \(logPath)") }
    }

    /// Starts the server again on the same data folder and port, and waits
    /// until it takes connections (30 s at most).
    public func start() throws {
        let options = [
            "-p \(port)", "-k \(socketDirectory)", "-c listen_addresses=\(([host] + extraListenAddresses).joined(separator: ","))",
            "-c fsync=on", "-c synchronous_commit=on",
        ].joined(separator: " ")
        // -w: pg_ctl returns once the server accepts connections.
        let started = try asPostgres("pg_ctl", ["-D", dataDirectory, "-l", logPath, "-o", options, "-w", "-t", "30", "start"])
        guard started.status == 0 else {
            throw PodmanError(message: "postgres did not get ready on port \(port): \(started.output); see \(logPath)")
        }
    }

    /// Stops the server: `-m immediate` (no checkpoint, as at a crash; the
    /// next start replays the WAL) or `-m fast`.
    public func stop(immediate: Bool = true) throws {
        let stopped = try asPostgres("pg_ctl", ["-D", dataDirectory, "-m", immediate ? "immediate" : "fast", "-w", "-t", "30", "stop"])
        guard stopped.status == 0 else { throw PodmanError(message: "pg_ctl stop failed: \(stopped.output); see \(logPath)") }
    }

    /// Runs `sql` (one or more statements) in database "sidecar" through
    /// psql; the rows it printed, each split into its columns. psql prints
    /// a NULL as "", and its unaligned output cannot tell a value's own tab
    /// or newline from a separator, nor one row of one "" from no row: keep
    /// such values out of what a test reads back. Throws on any SQL error
    /// (ON_ERROR_STOP) or when the server cannot be reached.
    public func query(_ sql: String) throws -> [[String]] {
        let result = try Self.run(Self.psql, psqlArguments(database: database) + ["-c", sql], in: directory)
        guard result.status == 0 else {
            throw PodmanError(message: "psql failed (status \(result.status)) on \(sql): \(result.errors); see \(logPath)")
        }
        var output = result.output
        if output.hasSuffix("\n") { output.removeLast() }
        if output.isEmpty { return [] }
        return output.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
    }

    deinit {
        cleanUp()
    }

    /// Stops the server at once, SIGKILLs it if pg_ctl could not, and removes
    /// the temp folder.
    private func cleanUp() {
        let pid = (try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8))
            .flatMap { $0.split(separator: "\n").first }.flatMap { Int32($0) }
        if FileManager.default.fileExists(atPath: dataDirectory + "/postmaster.pid"), (try? stop(immediate: true)) == nil, let pid,
            // Still this cluster's postmaster, not a stale file's reused PID.
            let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
            command.contains(dataDirectory)
        {
            // Its backends see the postmaster gone and exit on their own.
            kill(pid, SIGKILL)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// psql quiet (-q: no command tags such as "INSERT 0 1"), unaligned,
    /// tuples only, tab-separated, stopping at the first error.
    private func psqlArguments(database: String) -> [String] {
        ["-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", "\(port)", "-U", user, "-d", database]
    }

    /// A PostgreSQL tool run as user `postgres`; its stdout and stderr
    /// together.
    private func asPostgres(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let result = try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", Self.binaries + "/" + tool] + arguments, in: directory)
        return (result.status, result.output + result.errors)
    }

    /// Runs a tool to its end with stdin /dev/null, stdout through a pipe
    /// (`output`), stderr to a file in `folder` (`errors`: NOTICEs stay out
    /// of the rows), and no other descriptor of this process (see the type's
    /// comment); signals as by default and none blocked, for a postmaster
    /// that a test thread's mask would otherwise leave deaf.
    private static func run(_ path: String, _ arguments: [String], in folder: String) throws
        -> (status: Int32, output: String, errors: String)
    {
        let errorPath = folder + "/stderr-\(UUID().uuidString.prefix(8))"
        let errorFD = open(errorPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard errorFD >= 0 else { throw PodmanError(message: "cannot create \(errorPath): \(String(cString: strerror(errno)))") }
        defer { try? FileManager.default.removeItem(atPath: errorPath) }
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            close(errorFD)
            throw PodmanError(message: "pipe: \(String(cString: strerror(errno)))")
        }
        let (readEnd, writeEnd) = (ends[0], ends[1])
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }

        guard let addCloseFrom else {
            close(readEnd)
            close(writeEnd)
            close(errorFD)
            throw PodmanError(message: "glibc has no posix_spawn_file_actions_addclosefrom_np (2.34 or later has)")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, errorFD, 2)
        _ = addCloseFrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var noneBlocked = sigset_t()
        sigemptyset(&noneBlocked)
        posix_spawnattr_setsigmask(&attributes, &noneBlocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = [path] + arguments
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, &attributes, &cArguments, environ)
        close(writeEnd)
        close(errorFD)
        guard spawned == 0 else {
            close(readEnd)
            throw PodmanError(message: "cannot start \(path): \(String(cString: strerror(spawned)))")
        }
        let output = String(decoding: FileHandle(fileDescriptor: readEnd, closeOnDealloc: true).readDataToEndOfFile(), as: UTF8.self)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // Exit status, or 128 + the signal that ended it.
        let signal = status & 0x7f
        let errors = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        return (signal == 0 ? (status >> 8) & 0xff : 128 + signal, output, errors)
    }

    /// glibc's posix_spawn_file_actions_addclosefrom_np (2.34 on; Debian 12
    /// has 2.36), which Swift's Glibc module leaves out (it is _GNU_SOURCE).
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }
}
