import Foundation
import Glibc
import SidecarDigest

/// An OCI image layout folder (`oci-layout`, `index.json`, `blobs/sha256/`)
/// and the blocking file work on it: reads, and writes that are atomic (a
/// temp file, synced, renamed, the folder synced). Run on the thread pool.
public struct OCILayout: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public var indexPath: String { root + "/index.json" }
    public var markerPath: String { root + "/oci-layout" }
    /// What `oci-layout` holds.
    public static let marker = Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)
    public var blobsPath: String { root + "/blobs/sha256" }
    /// Where pulls land before their blobs are checked and moved in.
    public var incomingPath: String { root + "/.incoming" }

    public func blobPath(_ descriptor: OCIDescriptor) -> String? {
        descriptor.sha256Hex.map { blobsPath + "/" + $0 }
    }

    public func blobPath(digest: String) -> String? {
        blobPath(OCIDescriptor(mediaType: "", digest: digest, size: 0))
    }

    /// Creates the folders and the `oci-layout` marker, and an empty
    /// `index.json` when there is none at all. What a crash left half done
    /// (pulls in `.incoming`, temp files of atomic writes) is removed.
    public func prepare() throws {
        let files = FileManager.default
        try files.createDirectory(atPath: blobsPath, withIntermediateDirectories: true)
        try? files.removeItem(atPath: incomingPath)
        try files.createDirectory(atPath: incomingPath, withIntermediateDirectories: true)
        for folder in [root, blobsPath] {
            for name in (try? files.contentsOfDirectory(atPath: folder)) ?? [] where name.contains(".tmp-") {
                try? files.removeItem(atPath: folder + "/" + name)
            }
        }
        if !files.fileExists(atPath: markerPath) {
            try Self.writeAtomically(Self.marker, to: markerPath)
        }
        // Only a new layout gets an empty index: a missing one beside blobs
        // is damage, rebuilt by repair from the refs the sidecar knows.
        if !files.fileExists(atPath: indexPath), ((try? files.contentsOfDirectory(atPath: blobsPath)) ?? []).isEmpty {
            try writeIndex([])
        }
    }

    public enum IndexRead: Sendable {
        case manifests([OCIDescriptor])
        case damaged(OCIDamage)
    }

    public func readIndex() -> IndexRead {
        guard let data = FileManager.default.contents(atPath: indexPath) else { return .damaged(.indexMissing) }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            return .damaged(.indexUnparsable("not a JSON object"))
        }
        guard let list = object["manifests"] as? [Any] else { return .damaged(.indexUnparsable("no \"manifests\" list")) }
        var manifests: [OCIDescriptor] = []
        for entry in list {
            guard let descriptor = OCIDescriptor(json: entry) else { return .damaged(.indexUnparsable("a manifest entry lacks a digest or size")) }
            manifests.append(descriptor)
        }
        return .manifests(manifests)
    }

    public func writeIndex(_ manifests: [OCIDescriptor]) throws {
        try Self.writeAtomically(try Self.index(manifests), to: indexPath)
    }

    /// The bytes of an `index.json` listing `manifests`.
    public static func index(_ manifests: [OCIDescriptor]) throws -> [UInt8] {
        let object: [String: Any] = ["schemaVersion": 2, "manifests": manifests.map(\.json)]
        return [UInt8](try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    /// Writes `bytes` to a temp file beside `path`, syncs it, renames it over
    /// `path` and syncs the folder: a crash leaves the old file or the new one.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temp = path + ".tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OCIError("cannot create \(temp): \(String(cString: strerror(errno)))") }
        var written = 0
        let ok = bytes.withUnsafeBytes { buffer -> Bool in
            while written < buffer.count {
                let count = write(fd, buffer.baseAddress! + written, buffer.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += count
            }
            return true
        }
        let synced = fsync(fd) == 0
        close(fd)
        guard ok, synced else {
            unlink(temp)
            throw OCIError("cannot write \(temp): \(String(cString: strerror(errno)))")
        }
        try moveSynced(temp, to: path)
    }

    /// Renames a file (already synced) into place and syncs its folder.
    public static func moveSynced(_ source: String, to destination: String) throws {
        guard rename(source, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(source)
            throw OCIError("cannot rename \(source) to \(destination): \(reason)")
        }
        syncFolder(of: destination)
    }

    public static func syncFile(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return fsync(fd) == 0
    }

    static func syncFolder(of path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}

public struct OCIError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
