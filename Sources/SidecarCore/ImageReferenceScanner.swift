/// Finds the image reference an error message talks about, so a remedy can
/// name it: kubelet writes `Container image "optio-node:latest" is not
/// present with pull policy of Never`, docker writes `Unable to find image
/// 'agent:latest' locally`. Works on UTF-8 bytes: quotes and reference
/// characters are all ASCII.
enum ImageReferenceScanner {
    static func firstReference(in message: String) -> String? {
        let bytes = Array(message.utf8)
        for quote in [UInt8(ascii: "\""), UInt8(ascii: "'")] {
            var open: Int?
            for (index, byte) in bytes.enumerated() where byte == quote {
                if let start = open {
                    let candidate = bytes[(start + 1)..<index]
                    if looksLikeImageReference(candidate) { return String(decoding: candidate, as: UTF8.self) }
                    open = nil
                } else {
                    open = index
                }
            }
        }
        return nil
    }

    static func looksLikeImageReference(_ text: ArraySlice<UInt8>) -> Bool {
        guard let first = text.first, text.count <= 255, isAlphanumeric(first) else { return false }
        let allowed = text.allSatisfy { isAlphanumeric($0) || "._-/:@".utf8.contains($0) }
        return allowed && (text.contains(UInt8(ascii: ":")) || text.contains(UInt8(ascii: "/")))
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
    }
}
