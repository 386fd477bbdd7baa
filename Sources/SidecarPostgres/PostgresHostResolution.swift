import SidecarLoop

/// libpq looks host names up with a blocking call, which the loop must never
/// make: names are resolved here first (on libuv's thread pool) and handed
/// to libpq as `hostaddr`, every address of every host in order, so that
/// libpq tries each one as it would have.
enum PostgresHostResolution {
    static func resolve(
        _ parameters: [(String, String)], loop: EventLoop, _ done: @escaping (Result<[(String, String)], PostgresFailure>) -> Void
    ) {
        guard let hostValue = parameters.first(where: { $0.0 == "host" })?.1,
            !parameters.contains(where: { $0.0 == "hostaddr" })
        else { return done(.success(parameters)) }
        let hosts = hostValue.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard hosts.contains(where: needsLookup) else { return done(.success(parameters)) }
        let ports = parameters.first(where: { $0.0 == "port" })?.1.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var resolved: [[String]?] = Array(repeating: nil, count: hosts.count)
        var left = hosts.count
        var failure: String?
        for (index, host) in hosts.enumerated() {
            guard needsLookup(host) else {
                resolved[index] = [""]
                left -= 1
                continue
            }
            LoopResolver.addresses(of: host, loop: loop) { result in
                switch result {
                case .success(let addresses) where !addresses.isEmpty: resolved[index] = addresses
                case .success: failure = failure ?? "\(host) has no address"
                case .failure(let error): failure = failure ?? "cannot resolve \(host): \(error.reason)"
                }
                left -= 1
                guard left == 0 else { return }
                if let failure, resolved.allSatisfy({ $0 == nil }) { return done(.failure(.unavailable(failure))) }
                done(.success(expand(parameters, hosts: hosts, ports: ports, addresses: resolved)))
            }
        }
        if left == 0 { done(.success(expand(parameters, hosts: hosts, ports: ports, addresses: resolved))) }
    }

    /// A name, not a socket folder or a numeric address.
    static func needsLookup(_ host: String) -> Bool {
        !host.isEmpty && !host.hasPrefix("/") && !host.hasPrefix("@") && !LoopResolver.isNumericAddress(host)
    }

    /// One entry per address in host, hostaddr (and port, when it lists
    /// one per host); a host with no address is left out.
    private static func expand(
        _ parameters: [(String, String)], hosts: [String], ports: [String]?, addresses: [[String]?]
    ) -> [(String, String)] {
        var hostList: [String] = []
        var addressList: [String] = []
        var portList: [String] = []
        for (index, host) in hosts.enumerated() {
            for address in addresses[index] ?? [] {
                hostList.append(host)
                addressList.append(address)
                if let ports, ports.count == hosts.count { portList.append(ports[index]) }
            }
        }
        var expanded = parameters.filter { $0.0 != "host" && !($0.0 == "port" && !portList.isEmpty) }
        expanded.append(("host", hostList.joined(separator: ",")))
        expanded.append(("hostaddr", addressList.joined(separator: ",")))
        if !portList.isEmpty { expanded.append(("port", portList.joined(separator: ","))) }
        return expanded
    }
}
