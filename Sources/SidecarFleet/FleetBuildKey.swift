import Foundation
import SidecarConfig
import SidecarDigest
import SidecarImages
import SidecarLoop

/// A fleet build's key (FLEET.md).
public enum FleetBuildKey {
    /// What makes the result (FLEET.md): the image's stanza, the command
    /// template that builds it, the base's resolved digest, the platform
    /// and the build context's content (hashed on the thread pool). Hosts
    /// whose configs differ never share a build. Nil when the base is not
    /// present or the context cannot be read.
    public static func make(
        for image: ImageSpec, images: DaemonConfig.ImagesConfig, backend: ImageBackend, loop: EventLoop,
        _ done: @escaping (String?) -> Void
    ) {
        var stanza = [
            "name=\(image.name)", "ref=\(image.ref)", "build=\(image.build.joined(separator: "\u{0}"))",
            "template=\(images.command.build.joined(separator: "\u{0}"))", "workdir=\(image.workdir)",
            "context=\(image.context)", "dockerfile=\(image.dockerfile)", "base=\(image.base)", "pull=\(image.pull)",
            "platform=\(Self.platform)",
        ]
        let finish = { (context: String?) in
            guard let context else { return done(nil) }
            stanza.append("context-content=\(context)")
            done(SHA256Digest.hex(of: Array(stanza.joined(separator: "\n").utf8)))
        }
        let withContext = {
            guard !image.context.isEmpty else { return finish("") }
            let folder = image.context
            do {
                try ThreadPoolWork.compute(loop: loop, { Self.digestOfFolder(folder) }, then: finish)
            } catch {
                finish(nil)
            }
        }
        guard !image.base.isEmpty, let base = images.images.first(where: { $0.name == image.base }) else { return withContext() }
        backend.presence(of: base) { result in
            guard case .success(.present(let id)) = result else { return done(nil) }
            stanza.append("base-digest=\(id)")
            withContext()
        }
    }

    static let platform: String = {
        var name = utsname()
        uname(&name)
        let machine = withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return "linux/\(machine)"
    }()

    /// Every file's path, mode and content below `folder`, in path order.
    static func digestOfFolder(_ folder: String) -> String? {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return nil }
        var entries: [String] = []
        while let path = walker.nextObject() as? String { entries.append(path) }
        var lines: [String] = []
        for path in entries.sorted() {
            let full = folder + "/" + path
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: full) else { return nil }
            let mode = (attributes[.posixPermissions] as? Int).map { String($0, radix: 8) } ?? ""
            if attributes[.type] as? FileAttributeType == .typeRegular {
                guard let digest = SHA256Digest.file(full)?.hex else { return nil }
                lines.append("\(path) \(mode) \(digest)")
            } else {
                lines.append("\(path) \(mode) \((attributes[.type] as? FileAttributeType)?.rawValue ?? "")")
            }
        }
        return SHA256Digest.hex(of: Array(lines.joined(separator: "\n").utf8))
    }
}
