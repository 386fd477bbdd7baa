/// Decides whether a failure is permanent or transient, and what to do about
/// it. Pure: no I/O, no clock; the daemon builds one from the config and
/// rebuilds it on reload.
public struct ErrorClassifier: Sendable {
    public var configRules: [ClassificationRule] { compiled.configRules }
    private let compiled: CompiledRules

    /// The config rules, then the built-in ones, made ready once; a class,
    /// so passing the classifier around retains one object.
    private final class CompiledRules: Sendable {
        let configRules: [ClassificationRule]
        let matcher: RuleMatcher
        let answers: [PreparedRule]
        /// By rule: its remedy has `{image}` to fill. Kept apart from
        /// `answers` so a match reads a flag, not a struct of strings.
        let fillsImage: [Bool]

        init(configRules: [ClassificationRule]) {
            self.configRules = configRules
            matcher = RuleMatcher(configRules + BuiltinRules.all)
            answers =
                configRules.enumerated().map { PreparedRule($1, id: "config:\($0)") } + BuiltinRules.prepared
            fillsImage = answers.map(\.fillsImage)
        }

        func match(message: UnsafeBufferPointer<UInt8>, exitCode: Int32?, sqliteCode: Int32?) -> Match {
            let found = ErrorClassifier.withASCIILowercased(message) { lowercased in
                matcher.firstMatch(lowercasedMessage: lowercased, exitCode: exitCode, sqliteCode: sqliteCode)
            }
            guard let index = found else { return Match(ruleIndex: nil, image: nil) }
            let image = fillsImage[index] ? ImageReferenceScanner.firstReference(in: message) : nil
            return Match(ruleIndex: index, image: image)
        }
    }

    public init(configRules: [ClassificationRule] = []) {
        compiled = CompiledRules(configRules: configRules)
    }

    /// Which rule matched (nil: none), and the image reference the message
    /// names when that rule's remedy has `{image}` to fill.
    public struct Match: Sendable, Equatable {
        public var ruleIndex: Int?
        public var image: String?
    }

    public func classify(_ report: FailureReport) -> Classification {
        var message = report.message
        let found = message.withUTF8 { match(message: $0, exitCode: report.exitCode, sqliteCode: report.sqliteCode) }
        return classification(for: found)
    }

    /// The first rule that matches, from the message's UTF-8 bytes: the
    /// daemon matches a request in place, without making a String of it.
    public func match(message: UnsafeBufferPointer<UInt8>, exitCode: Int32?, sqliteCode: Int32?) -> Match {
        compiled.match(message: message, exitCode: exitCode, sqliteCode: sqliteCode)
    }

    public func classification(for match: Match) -> Classification {
        guard let index = match.ruleIndex else { return .unknown }
        return compiled.answers[index].answer(naming: match.image)
    }

    /// Each rule's answer when no image is named, by rule index: constant
    /// until the rules change, so the daemon encodes them once.
    public var answersNamingNoImage: [Classification] {
        compiled.answers.map { $0.answer(naming: nil) }
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
