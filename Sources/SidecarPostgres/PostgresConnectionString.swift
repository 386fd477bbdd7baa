import CPQ

/// A libpq connection string ("host=... port=... dbname=...") taken apart
/// by libpq itself, so it means here what it means to psql.
public enum PostgresConnectionString {
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// The keywords given and their values, in libpq's order.
    public static func parse(_ text: String) throws(Invalid) -> [(String, String)] {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(text, &error) else {
            let reason = error.map { String(cString: $0) } ?? "out of memory"
            if let error { PQfreemem(error) }
            throw Invalid(description: reason.trimmingTrailingNewlines)
        }
        defer { PQconninfoFree(options) }
        var given: [(String, String)] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { given.append((String(cString: keyword), String(cString: value))) }
            option += 1
        }
        return given
    }
}

extension String {
    fileprivate var trimmingTrailingNewlines: String {
        var text = self
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
