import CLibUV
import Glibc

/// Host names looked up on libuv's thread pool (`uv_getaddrinfo`), so that
/// a slow resolver never blocks the loop; the answer comes back on it.
public enum LoopResolver {
    /// The numeric addresses of `host` for TCP, in the resolver's order.
    public static func addresses(of host: String, loop: EventLoop, _ done: @escaping (Result<[String], LoopError>) -> Void) {
        let request = UnsafeMutablePointer<uv_getaddrinfo_t>.allocate(capacity: 1)
        request.pointee.data = Unmanaged.passRetained(Completion(done)).toOpaque()
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        let status = uv_getaddrinfo(loop.raw, request, { request, status, list in
            guard let request else { return }
            let completion = Unmanaged<Completion>.fromOpaque(request.pointee.data).takeRetainedValue()
            request.deallocate()
            defer { uv_freeaddrinfo(list) }
            guard status == 0 else { return completion.done(.failure(LoopError(operation: "getaddrinfo", code: status))) }
            completion.done(.success(LoopResolver.numericAddresses(list)))
        }, host, nil, &hints)
        if status < 0 {
            Unmanaged<Completion>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            done(.failure(LoopError(operation: "getaddrinfo", code: status)))
        }
    }

    /// An IPv4 or IPv6 address as text: nothing to look up.
    public static func isNumericAddress(_ text: String) -> Bool {
        let ipv4 = text.split(separator: ".", omittingEmptySubsequences: false)
        if ipv4.count == 4, ipv4.allSatisfy({ part in UInt8(part) != nil }) { return true }
        return text.contains(":") && text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }

    private final class Completion {
        let done: (Result<[String], LoopError>) -> Void
        init(_ done: @escaping (Result<[String], LoopError>) -> Void) { self.done = done }
    }

    fileprivate static func numericAddresses(_ list: UnsafeMutablePointer<addrinfo>?) -> [String] {
        var addresses: [String] = []
        var entry = list
        while let current = entry {
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            if let address = current.pointee.ai_addr {
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { _ = uv_ip4_name($0, &text, text.count) }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { _ = uv_ip6_name($0, &text, text.count) }
                default:
                    break
                }
            }
            let name = String(cString: text)
            if !name.isEmpty, !addresses.contains(name) { addresses.append(name) }
            entry = current.pointee.ai_next
        }
        return addresses
    }
}
