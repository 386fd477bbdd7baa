import SidecarWire

/// What two decoders made of the same bytes.
package enum Agreement: Equatable, Sendable {
    /// Both refused them.
    case refused
    /// Both read them, to the same values.
    case accepted
    /// They part ways: one refused what the other read, or they read other values.
    case disagreement(String)

    package var disagreement: String? {
        if case .disagreement(let text) = self { return text }
        return nil
    }

    /// The verdict on two decodings: `compare` names the fields that differ
    /// when both read the bytes.
    static func of<Hand, Reference>(
        _ message: @autoclosure () -> String, hand: Hand?, reference: Reference?, compare: (Hand, Reference) -> [String]
    ) -> Agreement {
        switch (hand, reference) {
        case (nil, nil): return .refused
        case (let hand?, let reference?):
            let differences = compare(hand, reference)
            return differences.isEmpty ? .accepted : .disagreement("\(message()): \(differences.joined(separator: "; "))")
        case (nil, _?): return .disagreement("\(message()): the hand decoder refused what protobuf-c read")
        case (_?, nil): return .disagreement("\(message()): the hand decoder read what protobuf-c refused")
        }
    }
}

/// The hand-written decoders of the daemon's hot path (`ClientFrameView`,
/// `ClassifyRequestView`) against protobuf-c's generic one: the same bytes
/// taken and refused, and the same values read. Strings must be valid UTF-8
/// without NUL in both, so two different keys never read as one. The unit
/// tests run these on mutated messages, the fuzzer (scripts/fuzz.sh) on
/// whatever it makes.
package enum DecoderAgreement {
    package static func clientFrame(_ bytes: UnsafeRawBufferPointer) -> Agreement {
        Agreement.of(
            "ClientFrame", hand: try? ClientFrameView(frameBody: bytes), reference: try? ClientFrame(protobufCWireBytes: bytes)
        ) { view, reference in
            [
                differ("call_id", view.callID, reference.callID),
                differ("kind", view.kind, reference.kind),
                differ("method", view.method, reference.method),
                differ("timeout_ms", view.timeoutMilliseconds, reference.timeoutMilliseconds),
                differ("payload", Array(view.payload), reference.payload),
                differ("protocol_version", view.protocolVersion, reference.protocolVersion),
            ].compactMap { $0 }
        }
    }

    package static func classifyRequest(_ bytes: UnsafeRawBufferPointer) -> Agreement {
        Agreement.of(
            "ClassifyRequest", hand: try? ClassifyRequestView(wireBytes: bytes),
            reference: try? ClassifyRequest(protobufCWireBytes: bytes)
        ) { view, reference in
            [
                differ("message", String(decoding: view.message, as: UTF8.self), reference.report.message),
                differ("exit_code", view.exitCode, reference.report.exitCode),
                differ("sqlite_code", view.sqliteCode, reference.report.sqliteCode),
                differ("image", String(decoding: view.image, as: UTF8.self), reference.report.image ?? ""),
            ].compactMap { $0 }
        }
    }

    static func differ<T: Equatable>(_ field: String, _ hand: T, _ reference: T) -> String? {
        hand == reference ? nil : "\(field): hand \(hand), protobuf-c \(reference)"
    }
}
