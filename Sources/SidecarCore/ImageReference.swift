/// The one grammar of an image reference here: the characters of a Docker
/// reference only, starting with a letter or digit (so it can never read as
/// an option such as "--rm"), at most `maxLength` bytes. Client references
/// are checked with it before they go anywhere near an argv, and the
/// classifier uses it to find the reference an error message names.
public enum ImageReference {
    public static let maxLength = 255

    /// The reason `text` is not a reference, or nil when it is one.
    public static func problem(with text: String) -> String? {
        if text.isEmpty { return "the image reference is empty" }
        if text.utf8.count > maxLength { return "the image reference is longer than \(maxLength) bytes" }
        guard let first = text.utf8.first, isAlphanumeric(first) else {
            return "an image reference starts with a letter or digit: \"\(text)\""
        }
        for byte in text.utf8 where !isReferenceByte(byte) {
            return "the image reference \"\(printable(text))\" holds a character a reference cannot have (\(describe(byte)))"
        }
        return nil
    }

    @inline(__always)
    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    /// A letter, a digit, or one of `._-/:@`.
    @inline(__always)
    static func isReferenceByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "/"), UInt8(ascii: ":"), UInt8(ascii: "@"): true
        default: isAlphanumeric(byte)
        }
    }

    private static func describe(_ byte: UInt8) -> String {
        byte >= 0x21 && byte < 0x7F ? "\"\(Character(Unicode.Scalar(byte)))\"" : "byte 0x\(String(byte, radix: 16))"
    }

    private static func printable(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
    }
}
