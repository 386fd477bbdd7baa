/// The answer to one CheckDb call: the check's result, and how it was had.
public struct DbCheckAnswer: Sendable, Equatable {
    public var result: DbCheckResult
    /// True when this call joined a check another call started.
    public var shared: Bool
    /// True when the file was unchanged and the last result was answered.
    public var reused: Bool
    public var resolvedPath: String

    public init(result: DbCheckResult, shared: Bool, reused: Bool, resolvedPath: String) {
        self.result = result
        self.shared = shared
        self.reused = reused
        self.resolvedPath = resolvedPath
    }
}
