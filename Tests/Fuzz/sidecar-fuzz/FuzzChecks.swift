import CLibFuzzer
import SidecarCore
import SidecarWire
import SidecarWireAgreement

/// What the fuzzer holds of every input, read two ways: as one message
/// (every decoder of the wire), and as the byte stream of a client (the
/// frame decoder, then each frame's body and call payload as the daemon
/// reads them).
enum FuzzChecks {
    /// Hands every input to `run` until libFuzzer's flags say stop. A
    /// disagreement traps, so libFuzzer keeps the input as a crash.
    static func runDriver() -> Int32 {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            FuzzChecks.run(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        }
    }

    static func run(_ input: UnsafeRawBufferPointer) {
        checkMessage(input)
        let reads = readSizes(for: input)
        // A small limit, so that oversized frames are skipped too.
        for limit in [64, SidecarDefaults.maxMessageBytes] {
            expect(FrameAgreement.check(input, maxBodyBytes: limit, readSizes: reads))
        }
        for case .frame(let body) in FrameAgreement.expected(input, maxBodyBytes: SidecarDefaults.maxMessageBytes).events {
            body.withUnsafeBytes(checkFrameBody)
        }
    }

    private static func checkMessage(_ bytes: UnsafeRawBufferPointer) {
        expect(DecoderAgreement.clientFrame(bytes))
        expect(DecoderAgreement.classifyRequest(bytes))
        for method in MethodDecoders.all {
            expect(method.request(bytes))
            method.readResponse(bytes)
        }
    }

    private static func checkFrameBody(_ body: UnsafeRawBufferPointer) {
        expect(DecoderAgreement.clientFrame(body))
        guard let frame = try? ClientFrameView(frameBody: body), frame.kind == .call,
            let method = MethodDecoders.byName[frame.method]
        else { return }
        expect(method.request(frame.payload))
        if method.name == SidecarMethods.classify.name { expect(DecoderAgreement.classifyRequest(frame.payload)) }
    }

    /// Four reads of 1 to 16 bytes, taken in turn, drawn from the input's
    /// hash: cuts inside headers and bodies alike, the same for the same input.
    private static func readSizes(for input: UnsafeRawBufferPointer) -> [Int] {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in input { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return (0..<4).map { Int((hash >> (UInt64($0) * 8)) & 0x0f) + 1 }
    }

    private static func expect(_ agreement: Agreement) {
        if let text = agreement.disagreement { fatalError(text) }
    }
}
