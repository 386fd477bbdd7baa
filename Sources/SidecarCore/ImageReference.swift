/// The one grammar of an image reference here: the characters of a Docker
/// reference only, starting with a letter or digit (so it can never read as
/// an option such as "--rm"), at most `maxLength` bytes. Client references
/// are checked with it before they go anywhere near an argv.
public enum ImageReference {
    public static let maxLength = 255

    /// The reason `text` is not a reference, or nil when it is one. A
    /// reference is the distribution grammar's and nothing more: an optional
    /// registry host (with a port), lowercase path components, a tag and/or
    /// a digest. No transport (`oci:`, `dir:`, `docker://`, ...) can pass,
    /// so a client's reference never makes a tool read a local path.
    public static func problem(with text: String) -> String? {
        if text.isEmpty { return "the image reference is empty" }
        if text.utf8.count > maxLength { return "the image reference is longer than \(maxLength) bytes" }
        guard let first = text.utf8.first, isAlphanumeric(first) else {
            return "an image reference starts with a letter or digit: \"\(printable(text))\""
        }
        for byte in text.utf8 where !isReferenceByte(byte) {
            return "the image reference \"\(printable(text))\" holds a character a reference cannot have (\(describe(byte)))"
        }
        return grammarProblem(Array(text.utf8)).map { "the image reference \"\(text)\" is not a reference: \($0)" }
    }

    private static func grammarProblem(_ reference: [UInt8]) -> String? {
        var rest = reference[...]
        if let at = rest.firstIndex(of: UInt8(ascii: "@")) {
            if let problem = digestProblem(rest[(at + 1)...]) { return problem }
            rest = rest[..<at]
        }
        let lastSlash = rest.lastIndex(of: UInt8(ascii: "/"))
        if let colon = rest.lastIndex(of: UInt8(ascii: ":")), colon > (lastSlash ?? rest.startIndex - 1) {
            let tag = rest[(colon + 1)...]
            guard !tag.isEmpty, tag.count <= 128, tag.first != UInt8(ascii: "."), tag.first != UInt8(ascii: "-"),
                !tag.contains(UInt8(ascii: "/"))
            else { return "the tag must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'" }
            rest = rest[..<colon]
        }
        var components = rest.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        if components.count > 1, let host = components.first, isRegistryHost(host) {
            if let problem = hostProblem(host) { return problem }
            components.removeFirst()
        }
        for component in components {
            if let problem = pathComponentProblem(component) { return problem }
        }
        return nil
    }

    /// The first component names a registry when it has a dot or a port,
    /// or is `localhost` (as docker reads it).
    private static func isRegistryHost(_ component: ArraySlice<UInt8>) -> Bool {
        component.contains(UInt8(ascii: ".")) || component.contains(UInt8(ascii: ":")) || Array(component) == Array("localhost".utf8)
    }

    private static func hostProblem(_ host: ArraySlice<UInt8>) -> String? {
        var name = host
        if let colon = host.firstIndex(of: UInt8(ascii: ":")) {
            let port = host[(colon + 1)...]
            guard !port.isEmpty, port.count <= 5, port.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                return "a registry's port is digits only (\"\(String(decoding: host, as: UTF8.self))\")"
            }
            name = host[..<colon]
        }
        for label in name.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard let first = label.first, let last = label.last, isAlphanumeric(first), isAlphanumeric(last),
                label.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") })
            else { return "\"\(String(decoding: host, as: UTF8.self))\" is not a registry host" }
        }
        return nil
    }

    /// Lowercase letters and digits, with single separators (`.`, `_`,
    /// `__`, or dashes) between them.
    private static func pathComponentProblem(_ component: ArraySlice<UInt8>) -> String? {
        let text = String(decoding: component, as: UTF8.self)
        guard let first = component.first, let last = component.last, isLowerAlphanumeric(first), isLowerAlphanumeric(last) else {
            return "the path component \"\(text)\" must start and end with a lowercase letter or digit"
        }
        var separator: [UInt8] = []
        for byte in component {
            if isLowerAlphanumeric(byte) {
                guard separator.isEmpty || separator == [0x2e] || separator == [0x5f] || separator == [0x5f, 0x5f]
                    || separator.allSatisfy({ $0 == UInt8(ascii: "-") })
                else { return "the path component \"\(text)\" has a separator a reference cannot have" }
                separator = []
            } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") {
                separator.append(byte)
            } else {
                return "the path component \"\(text)\" holds \(describe(byte)) (lowercase letters, digits and separators only)"
            }
        }
        return nil
    }

    /// `algorithm:hex`, e.g. `sha256:` and 64 hex digits.
    private static func digestProblem(_ digest: ArraySlice<UInt8>) -> String? {
        guard let colon = digest.firstIndex(of: UInt8(ascii: ":")) else { return "a digest is algorithm:hex" }
        let algorithm = digest[..<colon]
        let hex = digest[(colon + 1)...]
        guard !algorithm.isEmpty, algorithm.allSatisfy({ isLowerAlphanumeric($0) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }),
            hex.count >= 32, hex.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else { return "a digest is algorithm:hex, with at least 32 lowercase hex digits" }
        return nil
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A)
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
