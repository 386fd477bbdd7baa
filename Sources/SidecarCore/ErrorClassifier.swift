/// Decides whether a failure is permanent or transient, and what to do about
/// it. Pure: no I/O, no clock; the daemon builds one from the config and
/// rebuilds it on reload.
public struct ErrorClassifier: Sendable {
    public let configRules: [ClassificationRule]
    /// The config rules, then the built-in ones, each with its answer made
    /// once: a call only copies it, unless the remedy names the image.
    private let prepared: [PreparedRule]

    public init(configRules: [ClassificationRule] = []) {
        self.configRules = configRules
        prepared =
            configRules.enumerated().map { PreparedRule($1, id: "config:\($0)") } + BuiltinRules.prepared
    }

    public func classify(_ report: FailureReport) -> Classification {
        var message = report.message
        return message.withUTF8 { utf8 in
            Self.withASCIILowercased(utf8) { lowercased in
                for entry in prepared where entry.matches(lowercasedMessage: lowercased, report: report) {
                    return entry.answer(for: utf8)
                }
                return .unknown
            }
        }
    }

    /// Lowercases ASCII letters only, into scratch memory (on the stack when
    /// small): the rules are ASCII, and Unicode case mapping is far slower
    /// and not needed to match them.
    static func withASCIILowercased<R>(
        _ text: UnsafeBufferPointer<UInt8>, _ body: (UnsafeRawBufferPointer) -> R
    ) -> R {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(text.count, 1)) { scratch in
            let source = UnsafeRawPointer(text.baseAddress)
            let target = UnsafeMutableRawPointer(scratch.baseAddress!)
            var index = 0
            if let source {
                while index + 8 <= text.count {
                    let word = source.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                    target.storeBytes(of: lowercasedWord(word), toByteOffset: index, as: UInt64.self)
                    index += 8
                }
            }
            while index < text.count {
                let byte = text[index]
                scratch[index] = byte &- 0x41 < 26 ? byte | 0x20 : byte
                index += 1
            }
            return body(UnsafeRawBufferPointer(start: target, count: text.count))
        }
    }

    /// Eight bytes lowercased at once: per byte, the high bit of `aboveZ`
    /// says the byte is over "Z", that of `fromA` that it is "A" or over; a
    /// byte with the first clear, the second set, and its own high bit clear
    /// (ASCII) is a capital and gets 0x20.
    static func lowercasedWord(_ word: UInt64) -> UInt64 {
        let low7 = word & 0x7f7f_7f7f_7f7f_7f7f
        let aboveZ = low7 &+ 0x2525_2525_2525_2525  // 0x7f - 0x5a per byte
        let fromA = low7 &+ 0x3f3f_3f3f_3f3f_3f3f  // 0x80 - 0x41 per byte
        let capitals = fromA & ~aboveZ & ~word & 0x8080_8080_8080_8080
        return word | (capitals >> 2)
    }
}

extension String {
    /// The pieces between occurrences of `separator`, compared as UTF-8
    /// bytes (a Character-wise search costs microseconds).
    func components(separatedByBytesOf separator: String) -> [String] {
        let bytes = Array(utf8)
        let pattern = Array(separator.utf8)
        guard !pattern.isEmpty else { return [self] }
        var parts: [String] = []
        var start = 0
        var index = 0
        while index + pattern.count <= bytes.count {
            if bytes[index..<(index + pattern.count)].elementsEqual(pattern) {
                parts.append(String(decoding: bytes[start..<index], as: UTF8.self))
                index += pattern.count
                start = index
            } else {
                index += 1
            }
        }
        parts.append(String(decoding: bytes[start...], as: UTF8.self))
        return parts
    }
}
