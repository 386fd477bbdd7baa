import Foundation

/// A content descriptor of the OCI image spec: what a blob is, its digest
/// and size, and (in `index.json`) the ref it is known by.
public struct OCIDescriptor: Sendable, Equatable {
    public static let refNameAnnotation = "org.opencontainers.image.ref.name"
    public static let manifestType = "application/vnd.oci.image.manifest.v1+json"
    public static let indexType = "application/vnd.oci.image.index.v1+json"
    public static let dockerManifestType = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerListType = "application/vnd.docker.distribution.manifest.list.v2+json"

    public var mediaType: String
    public var digest: String
    public var size: Int64
    public var refName: String?

    public init(mediaType: String, digest: String, size: Int64, refName: String? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.refName = refName
    }

    /// From a JSON object; nil when a required field is missing or wrong.
    public init?(json: Any?) {
        guard let object = json as? [String: Any], let digest = object["digest"] as? String,
            let size = JSONNumber.int64(object["size"])
        else { return nil }
        mediaType = object["mediaType"] as? String ?? ""
        self.digest = digest
        self.size = size
        refName = (object["annotations"] as? [String: Any])?[Self.refNameAnnotation] as? String
    }

    var json: [String: Any] {
        var object: [String: Any] = ["mediaType": mediaType, "digest": digest, "size": size]
        if let refName { object["annotations"] = [Self.refNameAnnotation: refName] }
        return object
    }

    var isIndex: Bool { mediaType == Self.indexType || mediaType == Self.dockerListType }

    /// The hex part of a well-formed "sha256:<64 hex>" digest.
    public var sha256Hex: String? {
        guard digest.hasPrefix("sha256:") else { return nil }
        let hex = digest.dropFirst(7)
        guard hex.count == 64, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        return String(hex)
    }
}

/// JSON numbers as JSONSerialization hands them over (NSNumber, or a Swift
/// integer after bridging), read as Int64.
enum JSONNumber {
    static func int64(_ value: Any?) -> Int64? {
        switch value {
        case let number as Int: Int64(number)
        case let number as Int64: number
        case let number as NSNumber: number.int64Value
        default: nil
        }
    }
}
