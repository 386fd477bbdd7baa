import Foundation
import SidecarWire
import XCTest

/// One connection's burst is served a slice per loop turn: another
/// connection ready in the same turn is answered before the burst is done.
final class FairnessTests: XCTestCase {
    func testABurstOnOneConnectionDoesNotHoldAnother() throws {
        let daemon = try DaemonProcess()
        let flooder = try RawConnection.greeted(socketPath: daemon.socketPath)
        let other = try RawConnection.greeted(socketPath: daemon.socketPath)
        let burst = 4000
        var bytes: [UInt8] = []
        for id in 1...burst { bytes += ClientFrame.call(id: UInt64(id), method: "Health", payload: []).frameBytes() }

        // Both are queued in the kernel before the daemon reads either, the
        // burst first: the loop then finds both ready in one poll.
        daemon.signal(SIGSTOP)
        flooder.sendBytes(bytes)
        other.send(ClientFrame.call(id: 1, method: "Metrics", payload: []))
        daemon.signal(SIGCONT)

        let answer = try other.readFrame(timeout: 10)
        let text = try MetricsResponse(wireBytes: answer.payload).text
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("sidecar_calls_total{method=\"Health\",code=\"OK\"}") })
        let healthBefore = try XCTUnwrap(Int(line.split(separator: " ").last ?? ""), String(line))
        XCTAssertLessThan(healthBefore, burst / 4, "the other connection waited for \(healthBefore) of the burst's \(burst) calls")
        for _ in 1...burst { _ = try flooder.readFrame(timeout: 10) }
    }
}
