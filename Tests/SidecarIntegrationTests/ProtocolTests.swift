import Foundation
import SidecarCore
import SidecarWire
import XCTest

/// The wire as another language's client sees it, including every way of
/// breaking it: each must get a clear status, and only its own connection
/// may suffer.
final class ProtocolTests: XCTestCase {
    private func health(on connection: RawConnection, id: UInt64) throws -> HealthResponse {
        connection.send(.call(id: id, method: "Health", payload: []))
        let reply = try connection.readFrame()
        XCTAssertEqual(reply.callID, id)
        XCTAssertEqual(reply.statusCode, .ok, reply.statusMessage)
        return try HealthResponse(wireBytes: reply.payload)
    }

    func testHelloAckCarriesTheLimits() throws {
        let daemon = try DaemonProcess()
        let connection = try RawConnection(socketPath: daemon.socketPath)
        connection.send(.hello(protocolVersion: 1, clientName: "test"))
        let ack = try connection.readFrame()
        XCTAssertEqual(ack.kind, .helloAck)
        XCTAssertEqual(ack.protocolVersion, 1)
        XCTAssertEqual(ack.serverVersion, SidecarDefaults.version)
        XCTAssertEqual(ack.maxMessageBytes, 4 * 1024 * 1024)
        XCTAssertEqual(ack.maxInflightCalls, 256)
    }

    func testOversizedMessageIsRejectedWhileOtherConnectionsKeepWorking() throws {
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + "[limits]\nmax_message_bytes = 2048\n")
        let bystander = try RawConnection.greeted(socketPath: daemon.socketPath)
        let offender = try RawConnection.greeted(socketPath: daemon.socketPath)
        let request = ClassifyRequest(report: FailureReport(message: String(repeating: "a", count: 100_000)))
        offender.send(.call(id: 41, method: "Classify", payload: request.wireBytes()))
        let rejected = try offender.readFrame()
        XCTAssertEqual(rejected.kind, .reply)
        XCTAssertEqual(rejected.callID, 41)
        XCTAssertEqual(rejected.statusCode, .resourceExhausted)
        XCTAssertTrue(rejected.statusMessage.contains("exceeds the limit of 2048 bytes"), rejected.statusMessage)
        // The rest of the big frame was skipped: the same connection goes on.
        XCTAssertEqual(try health(on: offender, id: 42).state, "serving")
        XCTAssertEqual(try health(on: bystander, id: 1).connections, 2)
    }

    func testGarbageClosesOnlyThatConnection() throws {
        let daemon = try DaemonProcess()
        let bystander = try RawConnection.greeted(socketPath: daemon.socketPath)
        let vandal = try RawConnection.greeted(socketPath: daemon.socketPath)
        vandal.sendBytes([0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        let goAway = try vandal.readFrame()
        XCTAssertEqual(goAway.kind, .goAway)
        XCTAssertEqual(goAway.statusCode, .invalidArgument)
        XCTAssertTrue(goAway.statusMessage.contains("malformed frame"), goAway.statusMessage)
        XCTAssertTrue(vandal.waitForClose())
        XCTAssertTrue(DaemonProcess.eventually { ((try? self.health(on: bystander, id: 7)).map { $0.connections == 1 }) ?? false })
        XCTAssertTrue(daemon.isRunning)
    }

    func testTheFirstFrameMustBeAHelloOfAKnownRevision() throws {
        let daemon = try DaemonProcess()
        let rude = try RawConnection(socketPath: daemon.socketPath)
        rude.send(.call(id: 1, method: "Health", payload: []))
        let refusal = try rude.readFrame()
        XCTAssertEqual(refusal.kind, .goAway)
        XCTAssertEqual(refusal.statusCode, .failedPrecondition)
        XCTAssertTrue(refusal.statusMessage.contains("HELLO"))
        XCTAssertTrue(rude.waitForClose())

        let future = try RawConnection(socketPath: daemon.socketPath)
        future.send(.hello(protocolVersion: 9, clientName: "from-the-future"))
        let mismatch = try future.readFrame()
        XCTAssertEqual(mismatch.statusCode, .failedPrecondition)
        XCTAssertTrue(mismatch.statusMessage.contains("revision 9"), mismatch.statusMessage)
        XCTAssertTrue(future.waitForClose())
    }

    func testUnknownMethods() throws {
        let daemon = try DaemonProcess()
        let connection = try RawConnection.greeted(socketPath: daemon.socketPath)
        connection.send(.call(id: 1, method: "Teleport", payload: []))
        let unknown = try connection.readFrame()
        XCTAssertEqual(unknown.statusCode, .unimplemented)
        XCTAssertTrue(unknown.statusMessage.contains("unknown method \"Teleport\""), unknown.statusMessage)
        connection.send(.call(id: 2, method: "ListImages", payload: []))
        XCTAssertEqual(try connection.readFrame().statusCode, .ok, "every method of the schema is served")
    }

    func testCallIDsMustBeNonZeroAndUnique() throws {
        let daemon = try DaemonProcess()
        let connection = try RawConnection.greeted(socketPath: daemon.socketPath)
        connection.send(.call(id: 0, method: "Health", payload: []))
        XCTAssertEqual(try connection.readFrame().statusCode, .invalidArgument)
        connection.send(.call(id: 5, method: "Debug.Sleep", payload: SleepRequest(milliseconds: 300).wireBytes()))
        connection.send(.call(id: 5, method: "Health", payload: []))
        let duplicate = try connection.readFrame()
        XCTAssertEqual(duplicate.callID, 5)
        XCTAssertEqual(duplicate.statusCode, .invalidArgument)
        XCTAssertTrue(duplicate.statusMessage.contains("already in flight"))
        XCTAssertEqual(try connection.readFrame().statusCode, .ok, "the first call 5 still completes")
    }

    func testInflightCapPerConnection() throws {
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + "[limits]\nmax_inflight_per_connection = 3\n")
        let connection = try RawConnection.greeted(socketPath: daemon.socketPath)
        for id in 1...4 {
            connection.send(.call(id: UInt64(id), method: "Debug.Sleep", payload: SleepRequest(milliseconds: 500).wireBytes()))
        }
        let refused = try connection.readFrame()
        XCTAssertEqual(refused.callID, 4)
        XCTAssertEqual(refused.statusCode, .resourceExhausted)
        XCTAssertTrue(refused.statusMessage.contains("max_inflight_per_connection = 3"))
        let finished = try (0..<3).map { _ in try connection.readFrame() }
        XCTAssertEqual(Set(finished.map(\.callID)), [1, 2, 3])
        XCTAssertTrue(finished.allSatisfy { $0.statusCode == .ok })
    }

    func testConnectionCap() throws {
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + "[limits]\nmax_connections = 2\n")
        let first = try RawConnection.greeted(socketPath: daemon.socketPath)
        let second = try RawConnection.greeted(socketPath: daemon.socketPath)
        let third = try RawConnection(socketPath: daemon.socketPath)
        let refusal = try third.readFrame()
        XCTAssertEqual(refusal.kind, .goAway)
        XCTAssertEqual(refusal.statusCode, .resourceExhausted)
        XCTAssertTrue(refusal.statusMessage.contains("max_connections = 2"))
        XCTAssertTrue(third.waitForClose())
        XCTAssertEqual(try health(on: first, id: 1).connections, 2)
        second.close()
        XCTAssertTrue(DaemonProcess.eventually {
            guard let late = try? RawConnection.greeted(socketPath: daemon.socketPath) else { return false }
            return (try? self.health(on: late, id: 1)) != nil
        }, "a freed slot is usable again")
    }

    /// A refused connection always reads its GOAWAY, even when it sent its
    /// HELLO at once (as every client does) and the daemon never read it.
    func testEveryRefusedConnectionReadsItsGoAway() throws {
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + "[limits]\nmax_connections = 1\n")
        // The slot is free once the daemon has seen its readiness probe go.
        var taken: RawConnection?
        XCTAssertTrue(DaemonProcess.eventually {
            taken = try? RawConnection.greeted(socketPath: daemon.socketPath)
            return taken != nil
        })
        let held = try XCTUnwrap(taken)
        var refusals: [String] = []
        for attempt in 0..<30 {
            let refused = try RawConnection(socketPath: daemon.socketPath)
            refused.send(.hello(protocolVersion: 1, clientName: "refused-\(attempt)"))
            do {
                let frame = try refused.readFrame()
                refusals.append(frame.kind == .goAway ? frame.statusCode.name : "\(frame.kind)")
            } catch {
                refusals.append("\(error)")
            }
            refused.close()
        }
        XCTAssertEqual(refusals, Array(repeating: "RESOURCE_EXHAUSTED", count: 30))

        // The CLI sends its HELLO and its call before reading anything: it
        // too reads why it was refused, every time.
        var answers: [String] = []
        for _ in 0..<30 {
            let cli = try CommandResult.sidecarctl(["--socket", daemon.socketPath, "health"])
            answers.append(cli.stderr.contains("too many connections") ? "refused with the reason" : "\(cli.status): \(cli.stderr)")
        }
        XCTAssertEqual(answers, Array(repeating: "refused with the reason", count: 30))
        XCTAssertEqual(try health(on: held, id: 1).connections, 1)
    }

    /// A client that half-closes after its calls (SHUT_WR) still reads
    /// every answer, a durable grant's included, and then the close.
    func testAHalfClosedConnectionIsAnsweredThenClosed() throws {
        let daemon = try DaemonProcess()
        let connection = try RawConnection.greeted(socketPath: daemon.socketPath)
        let reserve = ReserveRetrySlotRequest(key: "half-closed", lastError: "connection reset by peer").wireBytes()
        connection.send(.call(id: 1, method: "ReserveRetrySlot", payload: reserve))
        connection.send(.call(id: 2, method: "Health", payload: []))
        connection.send(.call(id: 3, method: "Debug.Sleep", payload: SleepRequest(milliseconds: 200).wireBytes()))
        connection.shutdownWrite()
        var answered: [UInt64: StatusCode] = [:]
        while answered.count < 3, let frame = try? connection.readFrame() {
            if frame.kind == .reply { answered[frame.callID] = frame.statusCode }
        }
        XCTAssertEqual(answered, [1: .ok, 2: .ok, 3: .ok])
        XCTAssertTrue(connection.waitForClose(), "closed once everything was answered")
        let records = try CommandResult.sidecarctl(["--socket", daemon.socketPath, "--json", "retry", "list"])
        XCTAssertTrue(records.stdout.contains("\"attempts\":1"), records.stdout)
    }

    /// A frame must arrive whole within limits.frame_timeout of its first
    /// byte, however the bytes trickle in (each one resets the idle clock).
    func testAFrameThatTricklesInIsCutOffAtTheFrameTimeout() throws {
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + "[limits]\nframe_timeout = \"1s\"\n")
        let slow = try RawConnection.greeted(socketPath: daemon.socketPath)
        let steady = try RawConnection.greeted(socketPath: daemon.socketPath)
        let frame = ClientFrame.call(id: 1, method: "Health", payload: []).frameBytes()
        var goAway: ServerFrame?
        for byte in frame.prefix(frame.count - 1) {
            slow.sendBytes([byte])
            if let got = try? slow.readFrame(timeout: 0.3) {
                goAway = got
                break
            }
            XCTAssertNotNil(try? health(on: steady, id: UInt64(byte) + 100), "a connection whose frames arrive whole is served")
        }
        XCTAssertEqual(goAway?.kind, .goAway)
        XCTAssertEqual(goAway?.statusCode, .deadlineExceeded)
        XCTAssertTrue(goAway?.statusMessage.contains("limits.frame_timeout") ?? false, "\(String(describing: goAway))")
        XCTAssertTrue(DaemonProcess.eventually { (try? self.health(on: steady, id: 1))?.connections == 1 }, "the slow one is gone")
    }

    /// Partial frames over all connections are capped: past
    /// limits.max_buffered_bytes the connection holding the oldest one is
    /// closed, and the others (and newcomers) are served.
    func testPartialFramesPastTheDaemonWideCapCloseTheOldestHolder() throws {
        let daemon = try DaemonProcess(
            config: DaemonProcess.baseConfig + "[limits]\nmax_message_bytes = 65536\nmax_buffered_bytes = 131072\nframe_timeout = \"0\"\n")
        let big = ClientFrame.call(id: 1, method: "Classify", payload: [UInt8](repeating: 0x41, count: 60000)).frameBytes()
        var holders: [RawConnection] = []
        for _ in 0..<3 {
            let holder = try RawConnection.greeted(socketPath: daemon.socketPath)
            holder.sendBytes(Array(big.prefix(50000)))
            holders.append(holder)
            // Each frame is older than the next.
            XCTAssertNotNil(try? health(on: try RawConnection.greeted(socketPath: daemon.socketPath), id: 1))
        }
        let oldest = try holders[0].readFrame()
        XCTAssertEqual(oldest.kind, .goAway)
        XCTAssertEqual(oldest.statusCode, .resourceExhausted)
        XCTAssertTrue(oldest.statusMessage.contains("limits.max_buffered_bytes"), oldest.statusMessage)
        // The younger holders finish their frames and are answered.
        for (index, holder) in holders.dropFirst().enumerated() {
            holder.sendBytes(Array(big.dropFirst(50000)))
            let answer = try holder.readFrame()
            XCTAssertEqual(answer.kind, .reply, "holder \(index + 1)")
            XCTAssertEqual(answer.callID, 1)
        }
    }

    func testIdleConnectionsAreClosedWithAReason() throws {
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + "[limits]\nidle_timeout = \"1s\"\n")
        let idle = try RawConnection.greeted(socketPath: daemon.socketPath)
        let goAway = try idle.readFrame(timeout: 5)
        XCTAssertEqual(goAway.kind, .goAway)
        XCTAssertEqual(goAway.statusCode, .unavailable)
        XCTAssertTrue(goAway.statusMessage.contains("idle"), goAway.statusMessage)
        XCTAssertTrue(idle.waitForClose())
    }

    func testCancelFrameEndsTheCallWithCancelled() throws {
        let daemon = try DaemonProcess()
        let connection = try RawConnection.greeted(socketPath: daemon.socketPath)
        connection.send(.call(id: 3, method: "Debug.Sleep", payload: SleepRequest(milliseconds: 10_000).wireBytes()))
        connection.send(.cancel(id: 3))
        connection.send(.cancel(id: 99))  // unknown ids are ignored
        let reply = try connection.readFrame(timeout: 2)
        XCTAssertEqual(reply.callID, 3)
        XCTAssertEqual(reply.statusCode, .cancelled)
    }
}
