import Glibc
import SidecarCore
import SidecarWire
import SidecarWireAgreement

/// The seed corpus: frames as the Swift client writes them (its HELLO, a
/// CALL of every method with a request setting every field, a CANCEL),
/// and each request on its own.
enum FuzzSeeds {
    static var all: [[UInt8]] {
        let hello = ClientFrame.hello(protocolVersion: SidecarDefaults.protocolVersion, clientName: "swift-client").frameBytes()
        let cancel = ClientFrame.cancel(id: 2).frameBytes()
        let calls = MethodDecoders.all.map { method in
            ClientFrame.call(id: 1, method: method.name, timeoutMilliseconds: 250, payload: method.sampleRequest).frameBytes()
        }
        let requests = MethodDecoders.all.map(\.sampleRequest).filter { !$0.isEmpty }
        return [hello, cancel, hello + Array(calls.joined()) + cancel] + calls.map { hello + $0 } + requests
    }

    static func write(into directory: String) -> Bool {
        mkdir(directory, 0o755)
        for (index, seed) in all.enumerated() {
            let path = "\(directory)/seed-\(index)"
            guard let file = fopen(path, "wb") else { return false }
            defer { fclose(file) }
            guard seed.withUnsafeBytes({ fwrite($0.baseAddress, 1, $0.count, file) }) == seed.count else { return false }
        }
        return true
    }
}
