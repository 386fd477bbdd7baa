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
        /// By rule: its answer reads a delay from the message (a transient
        /// rule). Kept apart from `answers` so a match reads a flag, not a
        /// struct of strings.
        let readsRetryAfter: [Bool]

        init(configRules: [ClassificationRule]) {
            self.configRules = configRules
            matcher = RuleMatcher(configRules + BuiltinRules.all)
            answers =
                configRules.enumerated().map { PreparedRule($1, id: "config:\($0)") } + BuiltinRules.prepared
            readsRetryAfter = answers.map(\.readsRetryAfter)
        }

        func match(message: UnsafeBufferPointer<UInt8>, exitCode: Int32?, sqliteCode: Int32?) -> Match {
            ErrorClassifier.withASCIILowercased(message) { lowercased in
                guard let index = matcher.firstMatch(lowercasedMessage: lowercased, exitCode: exitCode, sqliteCode: sqliteCode)
                else { return Match(ruleIndex: nil, messageRetryAfter: nil) }
                let delay = readsRetryAfter[index] ? RetryAfterScanner.seconds(inLowercased: lowercased) : nil
                return Match(ruleIndex: index, messageRetryAfter: delay)
            }
        }
    }

    public init(configRules: [ClassificationRule] = []) {
        compiled = CompiledRules(configRules: configRules)
    }

    /// Which rule matched (nil: none), and the delay the message asks for
    /// when that rule is transient and the message names one.
    public struct Match: Sendable, Equatable {
        public var ruleIndex: Int?
        public var messageRetryAfter: Double?

        public init(ruleIndex: Int?, messageRetryAfter: Double?) {
            self.ruleIndex = ruleIndex
            self.messageRetryAfter = messageRetryAfter
        }
    }

    public func classify(_ report: FailureReport) -> Classification {
        var message = report.message
        let found = message.withUTF8 { match(message: $0, exitCode: report.exitCode, sqliteCode: report.sqliteCode) }
        return classification(for: found, image: report.image)
    }

    /// The first rule that matches, from the message's UTF-8 bytes: the
    /// daemon matches a request in place, without making a String of it.
    public func match(message: UnsafeBufferPointer<UInt8>, exitCode: Int32?, sqliteCode: Int32?) -> Match {
        compiled.match(message: message, exitCode: exitCode, sqliteCode: sqliteCode)
    }

    /// The answer for a match, its remedy naming `image` (the reference the
    /// caller gave; nil: none).
    public func classification(for match: Match, image: String? = nil) -> Classification {
        guard let index = match.ruleIndex else { return .unknown }
        return compiled.answers[index].answer(naming: image, messageRetryAfter: match.messageRetryAfter)
    }

    /// Whether rule `index`'s answer changes with the image named: its
    /// remedy has a slot for one.
    public func ruleNamesImage(_ index: Int) -> Bool {
        compiled.answers[index].namesImage
    }

    /// Each rule's answer when no image is named and the message gives no
    /// delay, by rule index: constant until the rules change, so the daemon
    /// encodes them once.
    public var plainAnswers: [Classification] {
        compiled.answers.map(\.plainAnswer)
    }

    /// Every rule in matching order, config ones first, each with the id
    /// its answers carry ("config:0", "builtin:manifest-unknown").
    public var rules: [(id: String, rule: ClassificationRule)] {
        configRules.enumerated().map { ("config:\($0)", $1) } + BuiltinRules.all.map { ("builtin:\($0.name)", $0) }
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
