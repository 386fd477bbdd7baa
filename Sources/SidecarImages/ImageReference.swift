/// Checks a client-supplied image reference before it goes anywhere near an
/// argv: the characters of a Docker reference only, starting with a letter or
/// digit (so it can never read as an option such as "--rm").
public enum ImageReference {
    public static let maxLength = 255

    /// The reason `text` is not a reference, or nil when it is one.
    public static func problem(with text: String) -> String? {
        if text.isEmpty { return "the image reference is empty" }
        if text.utf8.count > maxLength { return "the image reference is longer than \(maxLength) bytes" }
        guard let first = text.utf8.first, isAlphanumeric(first) else {
            return "an image reference starts with a letter or digit: \"\(text)\""
        }
        for byte in text.utf8 where !(isAlphanumeric(byte) || allowedPunctuation.contains(byte)) {
            return "the image reference \"\(printable(text))\" holds a character a reference cannot have (\(describe(byte)))"
        }
        return nil
    }

    private static let allowedPunctuation: Set<UInt8> = Set("._-/:@".utf8)

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    private static func describe(_ byte: UInt8) -> String {
        byte >= 0x21 && byte < 0x7F ? "\"\(Character(Unicode.Scalar(byte)))\"" : "byte 0x\(String(byte, radix: 16))"
    }

    private static func printable(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
    }
}
