/// One thing wrong with an image in the layout, said so an operator knows
/// what was found.
public enum OCIDamage: Sendable, Equatable, CustomStringConvertible {
    case indexMissing
    case indexUnparsable(String)
    case refMissing(String)
    case blobMissing(digest: String, role: String)
    case blobWrongSize(digest: String, role: String, expected: Int64, actual: Int64)
    case blobWrongDigest(digest: String, role: String, actual: String)
    case blobUnparsable(digest: String, role: String, reason: String)
    case badDigest(String)

    public var description: String {
        switch self {
        case .indexMissing: "index.json is missing"
        case .indexUnparsable(let reason): "index.json cannot be read: \(reason)"
        case .refMissing(let ref): "\(ref) is missing from index.json"
        case .blobMissing(let digest, let role): "the \(role) blob \(digest) is missing"
        case .blobWrongSize(let digest, let role, let expected, let actual):
            "the \(role) blob \(digest) has \(actual) bytes, not \(expected)"
        case .blobWrongDigest(let digest, let role, let actual): "the \(role) blob \(digest) hashes to sha256:\(actual)"
        case .blobUnparsable(let digest, let role, let reason): "the \(role) \(digest) cannot be read: \(reason)"
        case .badDigest(let digest): "\(digest) is not a sha256 digest"
        }
    }

    /// The blob this damage is about, when it is one that must be deleted.
    var blobToDelete: String? {
        switch self {
        case .blobWrongSize(let digest, _, _, _), .blobWrongDigest(let digest, _, _), .blobUnparsable(let digest, _, _): digest
        default: nil
        }
    }

    var damagesIndex: Bool {
        switch self {
        case .indexMissing, .indexUnparsable: true
        default: false
        }
    }
}
