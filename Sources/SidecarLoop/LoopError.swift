import CLibUV

/// A libuv call that failed: which call, and libuv's name and text for the code.
public struct LoopError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let code: Int32

    public var name: String { String(cString: uv_err_name(code)) }
    public var reason: String { String(cString: uv_strerror(code)) }
    public var description: String { "\(operation): \(reason) (\(name))" }

    public var isEndOfFile: Bool { code == UV_EOF.rawValue }
}

/// Every libuv call goes through here: a negative result becomes a thrown error.
@discardableResult
func uvCheck(_ result: Int32, _ operation: @autoclosure () -> String) throws -> Int32 {
    if result < 0 { throw LoopError(operation: operation(), code: result) }
    return result
}
