import Foundation
import Glibc

/// The container's state that the runtime writes on the hook's stdin, read
/// within bounds: at most `maxBytes`, and for at most `timeoutSeconds`. A
/// writer that never closes stdin does not hold the hook: reading stops as
/// soon as what came is a whole JSON object.
enum HookInput {
    static let maxBytes = 1 << 20
    static let timeoutSeconds = 5.0

    static func read(fd: Int32 = 0, timeoutSeconds: Double = timeoutSeconds) throws(HookFailure) -> Data {
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while true {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 {
                throw .badInput(
                    data.isEmpty
                        ? "no OCI state on stdin within \(Int(timeoutSeconds)) s"
                        : "stdin did not end (no EOF) and is not a whole JSON object after \(Int(timeoutSeconds)) s")
            }
            var pending = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pending, 1, Int32((left * 1000).rounded(.up)))
            if ready < 0 {
                if errno == EINTR { continue }
                throw .badInput("cannot read stdin: \(String(cString: strerror(errno)))")
            }
            if ready == 0 { continue }
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .badInput("cannot read stdin: \(String(cString: strerror(errno)))")
            }
            if count == 0 { return data }
            data.append(contentsOf: chunk[..<count])
            if data.count > maxBytes { throw .badInput("the OCI state on stdin is over \(maxBytes) bytes") }
            if endsLikeAnObject(data), (try? JSONSerialization.jsonObject(with: data)) is [String: Any] { return data }
        }
    }

    /// Cheap test before a parse: the last byte that is not white space is "}".
    private static func endsLikeAnObject(_ data: Data) -> Bool {
        data.last(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == UInt8(ascii: "}")
    }
}
