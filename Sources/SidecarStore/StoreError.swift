/// A SQLite call that failed, with SQLite's own message and result code.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let code: Int32
    public let message: String

    public var description: String { "\(operation): \(message) (SQLite code \(code))" }
}
