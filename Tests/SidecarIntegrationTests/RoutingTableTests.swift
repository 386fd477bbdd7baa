import SidecarClient
import SidecarWire
import XCTest

/// The daemon's routing table against the schema: every RPC of the proto
/// (through its generated descriptor) has a route, and no route is not an RPC.
final class RoutingTableTests: XCTestCase {
    func testTheDaemonRoutesExactlyTheMethodsOfTheSchema() async throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let client = daemon.client()
        defer { Task { await client.close() } }

        // An unknown method's answer lists every route the daemon has.
        var routed: Set<String> = []
        do {
            _ = try await client.rawUnary("NoSuchMethod", payload: [])
            XCTFail("an unknown method cannot answer OK")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .unimplemented)
            let list = try XCTUnwrap(error.message.range(of: "(methods: ")).upperBound
            routed = Set(error.message[list...].dropLast().components(separatedBy: ", "))
        }
        XCTAssertEqual(routed, Set(SidecarMethods.all.map(\.name)))

        // And each is served: whatever an empty request earns, it is not
        // "unknown method".
        for method in SidecarMethods.all {
            do {
                _ = try await client.rawUnary(method.name, payload: [], timeout: .milliseconds(300))
            } catch let error as SidecarError {
                XCTAssertFalse(error.message.contains("unknown method"), "\(method.name): \(error)")
            }
        }
    }
}
