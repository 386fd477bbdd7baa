#if canImport(Glibc)
import Glibc
#endif

/// Finds the image reference an error message talks about, so a remedy can
/// name it: kubelet writes `Container image "optio-node:latest" is not
/// present with pull policy of Never`, docker writes `Unable to find image
/// 'agent:latest' locally`. Works on UTF-8 bytes: quotes and reference
/// characters are all ASCII.
enum ImageReferenceScanner {
    /// Double quotes are tried before single ones: kubelet quotes the image
    /// with them, and its messages may quote other things with apostrophes.
    static func firstReference(in bytes: UnsafeBufferPointer<UInt8>) -> String? {
        firstQuoted(by: UInt8(ascii: "\""), in: bytes) ?? firstQuoted(by: UInt8(ascii: "'"), in: bytes)
    }

    private static func firstQuoted(by quote: UInt8, in bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var from = 0
        while let open = index(of: quote, in: bytes, from: from),
            let close = index(of: quote, in: bytes, from: open + 1)
        {
            let candidate = UnsafeBufferPointer(rebasing: bytes[(open + 1)..<close])
            if looksLikeImageReference(candidate) { return String(decoding: candidate, as: UTF8.self) }
            from = close + 1
        }
        return nil
    }

    private static func index(of byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress,
            let found = memchr(base + start, Int32(byte), bytes.count - start)
        else { return nil }
        return UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found))
    }

    /// A reference by `ImageReference`'s grammar that has a tag or a path,
    /// so a quoted plain word is not taken for one.
    static func looksLikeImageReference(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = text.first, text.count <= ImageReference.maxLength, ImageReference.isAlphanumeric(first) else {
            return false
        }
        var hasSeparator = false
        for byte in text {
            guard ImageReference.isReferenceByte(byte) else { return false }
            if byte == UInt8(ascii: ":") || byte == UInt8(ascii: "/") { hasSeparator = true }
        }
        return hasSeparator
    }
}
