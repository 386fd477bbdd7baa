import SidecarCore
import TOMLKit

/// Reads one TOML table with typed accessors that name the full key in
/// their errors, and remembers which keys were read so that a misspelt key
/// is reported instead of silently ignored.
final class TOMLSection {
    let table: TOMLTable
    let path: String
    let file: String
    private var readKeys: Set<String> = []

    init(table: TOMLTable, path: String, file: String) {
        self.table = table
        self.path = path
        self.file = file
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func error(_ key: String, _ reason: String) -> ConfigError {
        ConfigError(file: file, key: keyPath(key), reason: reason)
    }

    private func value(_ key: String) -> TOMLValueConvertible? {
        readKeys.insert(key)
        return table[key]
    }

    private func typeName(_ value: TOMLValueConvertible) -> String { "\(value.type)" }

    func string(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard let text = value.string else { throw error(key, "must be a string, got \(typeName(value))") }
        return text
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = value(key) else { return nil }
        guard let flag = value.bool else { throw error(key, "must be true or false, got \(typeName(value))") }
        return flag
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = value(key) else { return nil }
        guard let number = value.int else { throw error(key, "must be an integer, got \(typeName(value))") }
        guard range.contains(number) else {
            throw error(key, "must be between \(range.lowerBound) and \(range.upperBound), got \(number)")
        }
        return number
    }

    func number(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let value = value(key) else { return nil }
        guard let number = value.double ?? value.int.map(Double.init) else {
            throw error(key, "must be a number, got \(typeName(value))")
        }
        guard range.contains(number) else {
            throw error(key, "must be between \(range.lowerBound) and \(range.upperBound), got \(number)")
        }
        return number
    }

    /// A duration such as "250ms", "10s", "5m", "24h", in seconds.
    func duration(_ key: String, allowZero: Bool = false) throws -> Double? {
        guard let text = try string(key) else { return nil }
        guard let seconds = DurationText.parse(text) else {
            throw error(key, "must be a duration like \"250ms\", \"10s\", \"5m\" or \"24h\", got \"\(text)\"")
        }
        if seconds == 0 && !allowZero { throw error(key, "must be longer than zero") }
        return seconds
    }

    func strings(_ key: String) throws -> [String]? {
        guard let value = value(key) else { return nil }
        guard let array = value.array else { throw error(key, "must be an array of strings, got \(typeName(value))") }
        return try array.enumerated().map { index, element in
            guard let text = element.string else {
                throw error(key, "element \(index) must be a string, got \(typeName(element))")
            }
            return text
        }
    }

    func unsignedInts(_ key: String) throws -> [UInt32]? {
        guard let value = value(key) else { return nil }
        guard let array = value.array else { throw error(key, "must be an array of integers, got \(typeName(value))") }
        return try array.enumerated().map { index, element in
            guard let number = element.int, number >= 0, number <= Int(UInt32.max) else {
                throw error(key, "element \(index) must be a non-negative integer id")
            }
            return UInt32(number)
        }
    }

    func section(_ key: String) throws -> TOMLSection? {
        guard let value = value(key) else { return nil }
        guard let table = value.table else { throw error(key, "must be a table, got \(typeName(value))") }
        return TOMLSection(table: table, path: keyPath(key), file: file)
    }

    /// `[[key]]`: an array of tables.
    func sections(_ key: String) throws -> [TOMLSection] {
        guard let value = value(key) else { return [] }
        guard let array = value.array else { throw error(key, "must be an array of tables ([[\(keyPath(key))]])") }
        return try array.enumerated().map { index, element in
            guard let table = element.table else { throw error(key, "element \(index) must be a table") }
            return TOMLSection(table: table, path: "\(keyPath(key))[\(index)]", file: file)
        }
    }

    /// Sub-tables keyed by name, like `[retry.policy.NAME]`.
    func namedSections() throws -> [(name: String, section: TOMLSection)] {
        try table.keys.sorted().map { name in
            guard let section = try section(name) else { throw error(name, "missing") }
            return (name, section)
        }
    }

    /// Fails on any key that was never read: a typo must not pass silently.
    func rejectUnknownKeys() throws {
        for key in table.keys.sorted() where !readKeys.contains(key) {
            throw error(key, "unknown key")
        }
    }
}
