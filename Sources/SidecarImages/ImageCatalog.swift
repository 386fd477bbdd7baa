import SidecarCore

/// The images the coordinator knows: those of the config, by name and by
/// ref, and those asked for by a ref the config does not name (ad hoc:
/// pulled, never built). Ad-hoc entries are bounded; the least recently
/// asked-for idle ones go first.
struct ImageCatalog {
    static let maxAdHocEntries = 1024

    private(set) var configured: [ImageEntry] = []
    private var byName: [String: ImageEntry] = [:]
    private var byRef: [String: ImageEntry] = [:]
    private var adHoc: [String: ImageEntry] = [:]
    /// `resolve`'s three tables, in its order, by UTF-8 bytes.
    private var byBytes = UTF8KeyTable()

    init(specs: [ImageSpec], now: Double) {
        replaceSpecs(specs, now: now)
    }

    /// Every entry: configured ones in config order, then ad-hoc ones by ref.
    var all: [ImageEntry] {
        configured + adHoc.keys.sorted().map { adHoc[$0]! }
    }

    mutating func replaceSpecs(_ specs: [ImageSpec], now: Double) {
        var next: [ImageEntry] = []
        for spec in specs {
            if let existing = byName[spec.name], existing.spec.ref == spec.ref {
                existing.spec = spec
                next.append(existing)
            } else {
                next.append(ImageEntry(spec: spec, isAdHoc: false, now: now))
            }
        }
        configured = next
        byName = Dictionary(uniqueKeysWithValues: next.map { ($0.spec.name, $0) })
        byRef = Dictionary(next.map { ($0.spec.ref, $0) }, uniquingKeysWith: { first, _ in first })
        for ref in adHoc.keys where byRef[ref] != nil { adHoc[ref] = nil }
        rebuildByBytes()
    }

    private mutating func rebuildByBytes() {
        var table = UTF8KeyTable(capacity: byName.count + byRef.count + adHoc.count)
        for entry in configured { table.insertIfAbsent(entry.spec.name, entry) }
        for (ref, entry) in byRef { table.insertIfAbsent(ref, entry) }
        for (ref, entry) in adHoc { table.insertIfAbsent(ref, entry) }
        byBytes = table
    }

    /// The entry `resolve` would give for these UTF-8 bytes, if it exists
    /// already (a new ad-hoc ref is made by `resolve` alone).
    func existingEntry(utf8 nameOrRef: UnsafeRawBufferPointer) -> ImageEntry? {
        byBytes.entry(for: nameOrRef)
    }

    /// The entry a client's name or ref stands for, created for a new
    /// well-formed ref.
    mutating func resolve(_ nameOrRef: String, now: Double) -> Result<ImageEntry, SidecarError> {
        if let entry = byName[nameOrRef] ?? byRef[nameOrRef] ?? adHoc[nameOrRef] { return .success(entry) }
        if let problem = ImageReference.problem(with: nameOrRef) {
            let known = configured.isEmpty ? "no images are configured" : "configured images: " + configured.map(\.spec.name).joined(separator: ", ")
            return .failure(SidecarError(.invalidArgument, "\(problem); it is not the name of a configured image either (\(known))"))
        }
        if adHoc.count >= Self.maxAdHocEntries { evictIdleAdHoc() }
        var spec = ImageSpec(name: nameOrRef, ref: nameOrRef)
        spec.pull = nameOrRef
        let entry = ImageEntry(spec: spec, isAdHoc: true, now: now)
        adHoc[nameOrRef] = entry
        byBytes.insertIfAbsent(nameOrRef, entry)
        return .success(entry)
    }

    func entry(ref: String) -> ImageEntry? {
        byRef[ref] ?? adHoc[ref]
    }

    private mutating func evictIdleAdHoc() {
        let idle = adHoc.values.filter { $0.job == nil }.sorted { $0.lastUsed < $1.lastUsed }
        for entry in idle.prefix(max(1, Self.maxAdHocEntries / 4)) { adHoc[entry.spec.ref] = nil }
        rebuildByBytes()
    }
}
