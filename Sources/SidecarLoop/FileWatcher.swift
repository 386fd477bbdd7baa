import CSidecarShims
import Glibc

/// Changes to files and folders, from the kernel (inotify), heard on the
/// loop. Its queue is also read on demand (`deliverPending`): once that
/// returns, every change made before the call has been delivered. libuv's
/// own `uv_fs_event` reads the queue only when the loop polls, so a request
/// read in the same turn as a change could be answered before the change
/// is heard. Loop thread only.
public final class FileWatcher {
    /// One watched file or folder (an inode: the kernel's watch descriptor).
    public struct Watch: Hashable, Sendable {
        let descriptor: Int32
    }

    public struct Changes: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// The file's bytes (a write, a truncation).
        public static let modified = Changes(rawValue: UInt32(IN_MODIFY))
        /// Its mode, times, owner or link count.
        public static let attributes = Changes(rawValue: UInt32(IN_ATTRIB))
        public static let closedAfterWriting = Changes(rawValue: UInt32(IN_CLOSE_WRITE))
        /// In a folder: an entry made, removed, or renamed out or in.
        public static let created = Changes(rawValue: UInt32(IN_CREATE))
        public static let deleted = Changes(rawValue: UInt32(IN_DELETE))
        public static let movedOut = Changes(rawValue: UInt32(IN_MOVED_FROM))
        public static let movedIn = Changes(rawValue: UInt32(IN_MOVED_TO))
        /// The watched file or folder itself removed or renamed.
        public static let deletedSelf = Changes(rawValue: UInt32(IN_DELETE_SELF))
        public static let movedSelf = Changes(rawValue: UInt32(IN_MOVE_SELF))
        /// The watch is gone (its inode was freed, or its file system unmounted).
        public static let unwatched = Changes(rawValue: UInt32(IN_IGNORED))

        /// What changes a file's content or identity.
        public static let fileContent: Changes = [.modified, .attributes, .closedAfterWriting, .deletedSelf, .movedSelf]
        /// What changes a folder's entries, or the files in it.
        public static let folderEntries: Changes = [
            .modified, .attributes, .closedAfterWriting, .created, .deleted, .movedOut, .movedIn, .deletedSelf, .movedSelf,
        ]
    }

    public enum Event: Sendable, Equatable {
        /// `name` is the entry of a watched folder the change is about; nil
        /// when it is about the watched file or folder itself.
        case changed(Watch, name: String?, Changes)
        /// The kernel's queue overflowed: changes were lost.
        case overflowed
    }

    private let descriptor: Int32
    private let loop: EventLoop
    /// The loop's input count when the queue was last read.
    private var inputsAtLastRead: UInt64
    private let poll: LoopPoll
    private let onEvents: ([Event]) -> Void
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
    private var closed = false

    /// Throws when the kernel refuses an inotify instance (the per-user
    /// limit, or no inotify at all).
    public init(loop: EventLoop, onEvents: @escaping ([Event]) -> Void) throws {
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else {
            buffer.deallocate()
            throw LoopError(operation: "inotify_init1", code: -errno)
        }
        do {
            poll = try LoopPoll(loop: loop, socket: descriptor)
        } catch {
            Glibc.close(descriptor)
            buffer.deallocate()
            throw error
        }
        self.onEvents = onEvents
        self.loop = loop
        inputsAtLastRead = loop.inputs
        poll.start(.readable) { [unowned self] _ in readQueue() }
    }

    deinit {
        close()
        buffer.deallocate()
    }

    /// Starts watching `path` (or changes the set watched on its inode).
    /// Throws with ENOSPC at the per-user watch limit, ENOENT when it is gone.
    public func watch(_ path: String, for changes: Changes, onlyFolder: Bool = false) throws -> Watch {
        let mask = changes.rawValue | (onlyFolder ? UInt32(IN_ONLYDIR) : 0)
        let watch = inotify_add_watch(descriptor, path, mask)
        guard watch >= 0 else { throw LoopError(operation: "inotify_add_watch \(path)", code: -errno) }
        return Watch(descriptor: watch)
    }

    public func unwatch(_ watch: Watch) {
        _ = inotify_rm_watch(descriptor, watch.descriptor)
    }

    /// Delivers now what the kernel has queued, as far as anyone on the
    /// loop can have asked about: the queue is read only when a stream read
    /// or a pool job completed since it last was. A request being handled
    /// was read before that last read of the queue, so every change made
    /// before the request was sent has been delivered; this spares a system
    /// call per request when many arrive in one read.
    public func deliverPending() {
        guard loop.inputs != inputsAtLastRead else { return }
        readQueue()
    }

    private func readQueue() {
        guard !closed else { return }
        inputsAtLastRead = loop.inputs
        var events: [Event] = []
        while true {
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            parse(UnsafeRawBufferPointer(rebasing: buffer[..<count]), into: &events)
        }
        if !events.isEmpty { onEvents(events) }
    }

    /// `struct inotify_event`: wd, mask, cookie, len, then `len` bytes of a
    /// NUL-padded name (Swift does not import its flexible array member).
    private func parse(_ bytes: UnsafeRawBufferPointer, into events: inout [Event]) {
        let header = 16
        var offset = 0
        while offset + header <= bytes.count {
            let watch = bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)
            let mask = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            let nameLength = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            let nameBytes = bytes[(offset + header)..<min(bytes.count, offset + header + nameLength)]
            offset += header + nameLength
            if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                events.append(.overflowed)
                continue
            }
            let name = nameBytes.prefix { $0 != 0 }
            events.append(.changed(
                Watch(descriptor: watch), name: name.isEmpty ? nil : String(decoding: name, as: UTF8.self),
                Changes(rawValue: mask & ~UInt32(IN_ISDIR))))
        }
    }

    public func close() {
        guard !closed else { return }
        closed = true
        poll.close()
        Glibc.close(descriptor)
    }

    /// The file system type of `path`'s file system (statfs), nil when it
    /// cannot be read.
    public static func fileSystemType(of path: String) -> Int64? {
        var type: Int64 = 0
        return sidecar_filesystem_type(path, &type) == 0 ? type : nil
    }
}
