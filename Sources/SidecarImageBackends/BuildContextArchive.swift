import Foundation

/// A build context folder as the uncompressed tar stream `POST /build`
/// takes (ustar: regular files, folders and symlinks). Reads files: run it
/// on the thread pool.
enum BuildContextArchive {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func make(directory: String) throws -> [UInt8] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Failure(description: "the build context \(directory) is not a folder")
        }
        guard let enumerator = manager.enumerator(atPath: directory) else {
            throw Failure(description: "cannot read the build context \(directory)")
        }
        var archive: [UInt8] = []
        var paths: [String] = []
        while let path = enumerator.nextObject() as? String { paths.append(path) }
        for path in paths.sorted() {
            let full = directory + "/" + path
            let attributes = try manager.attributesOfItem(atPath: full)
            let mode = (attributes[.posixPermissions] as? Int) ?? 0o644
            let modified = Int((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
            switch attributes[.type] as? FileAttributeType {
            case .typeDirectory?:
                try appendHeader(&archive, name: path + "/", mode: mode, size: 0, modified: modified, type: "5")
            case .typeSymbolicLink?:
                let target = try manager.destinationOfSymbolicLink(atPath: full)
                try appendHeader(&archive, name: path, mode: mode, size: 0, modified: modified, type: "2", link: target)
            case .typeRegular?:
                let contents = [UInt8](try Data(contentsOf: URL(fileURLWithPath: full)))
                try appendHeader(&archive, name: path, mode: mode, size: contents.count, modified: modified, type: "0")
                archive += contents
                archive += [UInt8](repeating: 0, count: (512 - contents.count % 512) % 512)
            default:
                continue  // sockets, fifos, devices: nothing a build can use
            }
        }
        archive += [UInt8](repeating: 0, count: 1024)
        return archive
    }

    private static func appendHeader(
        _ archive: inout [UInt8], name: String, mode: Int, size: Int, modified: Int, type: Character, link: String = ""
    ) throws {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) throws {
            let bytes = Array(text.utf8)
            guard bytes.count <= width else { throw Failure(description: "\(text) is too long for a tar header") }
            header.replaceSubrange(offset..<offset + bytes.count, with: bytes)
        }
        func octal(_ value: Int, at offset: Int, width: Int) throws {
            let digits = String(value, radix: 8)
            try put(String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits, at: offset, width: width - 1)
        }
        // Names over 100 bytes go into the ustar prefix, split at a slash.
        var prefix = ""
        var shortName = name
        if name.utf8.count > 100 {
            guard let split = name.utf8.indices.last(where: {
                name.utf8[$0] == UInt8(ascii: "/") && name.utf8.distance(from: $0, to: name.utf8.endIndex) <= 101
            }) else { throw Failure(description: "\(name) is too long for a tar header") }
            prefix = String(name[..<split])
            shortName = String(name[name.index(after: split)...])
        }
        try put(shortName, at: 0, width: 100)
        try octal(mode & 0o7777, at: 100, width: 8)
        try octal(0, at: 108, width: 8)
        try octal(0, at: 116, width: 8)
        try octal(size, at: 124, width: 12)
        try octal(modified, at: 136, width: 12)
        header.replaceSubrange(148..<156, with: Array(repeating: UInt8(ascii: " "), count: 8))
        header[156] = type.asciiValue!
        try put(link, at: 157, width: 100)
        try put("ustar", at: 257, width: 6)
        try put("00", at: 263, width: 2)
        try put(prefix, at: 345, width: 155)
        let checksum = header.reduce(0) { $0 + Int($1) }
        try octal(checksum, at: 148, width: 7)
        header[154] = 0
        archive += header
    }
}
