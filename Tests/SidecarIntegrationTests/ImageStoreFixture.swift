import Foundation

/// A test image store for the command backend (Tests/Fixtures/image_store.sh):
/// an image is a file in `store`; files beside it steer its build.
struct ImageStoreFixture {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/image_store.sh").standardizedFileURL.path

    let store: String

    init(directory: String) throws {
        store = directory + "/store"
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
    }

    /// An `[[images.image]]` table built by the fixture.
    struct Image {
        var name: String
        var base = ""
        var keepWarm = false
        var jobTimeout = ""
    }

    /// A daemon config with the command backend over this store.
    func config(_ images: [Image], extraImagesKeys: String = "") -> String {
        var text = DaemonProcess.baseConfig + """
            [images]
            backend = "command"
            \(extraImagesKeys)
            [images.command]
            exists = ["\(Self.script)", "exists", "\(store)", "{name}"]
            remove = ["\(Self.script)", "remove", "\(store)", "{name}"]
            pull = []

            """
        for image in images {
            text += """
                [[images.image]]
                name = "\(image.name)"
                ref = "localhost/\(image.name):latest"
                build = ["\(Self.script)", "build", "\(store)", "\(image.name)"]
                keep_warm = \(image.keepWarm)

                """
            if !image.base.isEmpty { text += "base = \"\(image.base)\"\n" }
            if !image.jobTimeout.isEmpty { text += "job_timeout = \"\(image.jobTimeout)\"\n" }
        }
        return text
    }

    func set(_ name: String, _ flag: String, _ content: String = "") throws {
        try content.write(toFile: "\(store)/\(name).\(flag)", atomically: true, encoding: .utf8)
    }

    func clear(_ name: String, _ flag: String) {
        try? FileManager.default.removeItem(atPath: "\(store)/\(name).\(flag)")
    }

    func isPresent(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: "\(store)/\(name)")
    }

    func removeOutOfBand(_ name: String) throws {
        try FileManager.default.removeItem(atPath: "\(store)/\(name)")
    }

    /// The build log: "start NAME", "done NAME", "base-missing NAME".
    var log: [String] {
        ((try? String(contentsOfFile: store + "/builds.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func builds(of name: String) -> Int {
        log.filter { $0 == "start \(name)" }.count
    }

    /// The pids a hanging build wrote: the script and its background child.
    func hangingPIDs(of name: String) -> [Int32] {
        ((try? String(contentsOfFile: "\(store)/\(name).pids", encoding: .utf8)) ?? "")
            .split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int32($0) }
    }
}

/// True when `pid` no longer runs (gone, or a zombie nobody reaped yet).
func processIsGone(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
    guard let close = stat.lastIndex(of: ")") else { return true }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state == "Z" || state == "X"
}
