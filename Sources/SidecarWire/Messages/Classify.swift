import SidecarCore
import SidecarProtoC

public struct ClassifyRequest: Equatable, Sendable {
    public var report: FailureReport

    public init(report: FailureReport) {
        self.report = report
    }
}

extension ClassifyRequest: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ClassifyRequest>) { sidecar__v1__classify_request__init(c) }

    package init(reading c: Sidecar__V1__ClassifyRequest) {
        self.init(report: FailureReport(
            message: ProtobufCField.string(c.message),
            exitCode: c.optional_exit_code_case == SIDECAR__V1__CLASSIFY_REQUEST__OPTIONAL_EXIT_CODE_EXIT_CODE
                ? c.exit_code : nil,
            sqliteCode: c.optional_sqlite_code_case == SIDECAR__V1__CLASSIFY_REQUEST__OPTIONAL_SQLITE_CODE_SQLITE_CODE
                ? c.sqlite_code : nil,
            image: ProtobufCField.string(c.image).nilIfEmpty))
    }

    package func fill(_ c: inout Sidecar__V1__ClassifyRequest, arena: PackArena) {
        c.message = arena.string(report.message)
        if let exitCode = report.exitCode {
            c.optional_exit_code_case = SIDECAR__V1__CLASSIFY_REQUEST__OPTIONAL_EXIT_CODE_EXIT_CODE
            c.exit_code = exitCode
        }
        if let sqliteCode = report.sqliteCode {
            c.optional_sqlite_code_case = SIDECAR__V1__CLASSIFY_REQUEST__OPTIONAL_SQLITE_CODE_SQLITE_CODE
            c.sqlite_code = sqliteCode
        }
        c.image = arena.string(report.image ?? "")
    }

    /// By hand (`ClassifyRequestView`); tests hold it equal to protobuf-c's.
    package init(wireBytes: UnsafeRawBufferPointer) throws {
        let view = try ClassifyRequestView(wireBytes: wireBytes)
        report = FailureReport(
            message: String(decoding: view.message, as: UTF8.self), exitCode: view.exitCode,
            sqliteCode: view.sqliteCode, image: view.image.isEmpty ? nil : String(decoding: view.image, as: UTF8.self))
    }
}

/// A ClassifyRequest read by hand and in place: `message` points into the
/// request and is valid only as long as it is. Every call of Classify
/// starts here, and the classifier matches the bytes without a String.
package struct ClassifyRequestView {
    package var message = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    package var exitCode: Int32?
    package var sqliteCode: Int32?
    /// The caller's image reference; empty when none was given.
    package var image = UnsafeBufferPointer<UInt8>(start: nil, count: 0)

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        var reader = ProtobufWire.Reader(wireBytes)
        do {
            while !reader.isAtEnd {
                let tag = try reader.tag()
                switch tag {
                case 0x0a:
                    let bytes = try reader.lengthDelimited()
                    try ProtobufText.check(bytes, field: "field message of sidecar.v1.ClassifyRequest")
                    message = bytes.assumingMemoryBound(to: UInt8.self)
                case 0x10: exitCode = Int32(truncatingIfNeeded: try reader.varint())
                case 0x18: sqliteCode = Int32(truncatingIfNeeded: try reader.varint())
                case 0x22:
                    let bytes = try reader.lengthDelimited()
                    try ProtobufText.check(bytes, field: "field image of sidecar.v1.ClassifyRequest")
                    image = bytes.assumingMemoryBound(to: UInt8.self)
                default: try reader.skipField(tag: tag, knownNumbers: 1...4, of: "ClassifyRequest")
                }
            }
        } catch let error as WireDecodingError {
            throw WireDecodingError("malformed ClassifyRequest message (\(wireBytes.count) bytes): \(error)")
        }
    }

    package var isEmpty: Bool { message.isEmpty && exitCode == nil && sqliteCode == nil }
}

public struct ClassifyResponse: Equatable, Sendable {
    public var classification: Classification

    public init(classification: Classification) {
        self.classification = classification
    }
}

extension ClassifyResponse: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ClassifyResponse>) { sidecar__v1__classify_response__init(c) }

    package init(reading c: Sidecar__V1__ClassifyResponse) {
        self.init(classification: Classification(
            category: ProtobufCField.string(c.category), permanent: c.permanent != 0,
            remedy: ProtobufCField.string(c.remedy), rule: ProtobufCField.string(c.rule),
            retryAfterSeconds: c.retry_after_seconds > 0 ? c.retry_after_seconds : nil))
    }

    package func fill(_ c: inout Sidecar__V1__ClassifyResponse, arena: PackArena) {
        c.category = arena.string(classification.category)
        c.permanent = classification.permanent ? 1 : 0
        c.remedy = arena.string(classification.remedy)
        c.rule = arena.string(classification.rule)
        c.retry_after_seconds = classification.retryAfterSeconds ?? 0
    }

    package func wireBytes() -> [UInt8] {
        let writer = ProtobufWriter(capacity: 128)
        encode(into: writer)
        return writer.bytes
    }

    /// By hand, in field order: every call of Classify goes through here.
    package func encode(into writer: ProtobufWriter) {
        writer.string(1, classification.category)
        writer.bool(2, classification.permanent)
        writer.string(3, classification.remedy)
        writer.string(4, classification.rule)
        writer.double(5, classification.retryAfterSeconds ?? 0)
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

public typealias ListRulesRequest = EmptyMessage

/// A classification rule with the id its answers carry (RuleInfo).
public struct ListedRule: Equatable, Sendable {
    public var id: String
    public var rule: ClassificationRule

    public init(id: String, rule: ClassificationRule) {
        self.id = id
        self.rule = rule
    }
}

public struct ListRulesResponse: Equatable, Sendable {
    public var rules: [ListedRule]

    public init(rules: [ListedRule]) {
        self.rules = rules
    }
}

extension ListedRule: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__RuleInfo>) { sidecar__v1__rule_info__init(c) }

    package init(reading c: Sidecar__V1__RuleInfo) {
        let id = ProtobufCField.string(c.id)
        let codes = c.n_sqlite_codes == 0 ? [] : Array(UnsafeBufferPointer(start: c.sqlite_codes, count: c.n_sqlite_codes))
        self.init(id: id, rule: ClassificationRule(
            name: id.hasPrefix("builtin:") ? String(id.dropFirst("builtin:".count)) : id,
            substrings: ProtobufCField.strings(c.match, count: c.n_match),
            exitCode: c.optional_exit_code_case == SIDECAR__V1__RULE_INFO__OPTIONAL_EXIT_CODE_EXIT_CODE ? c.exit_code : nil,
            sqlitePrimaryCodes: codes, category: ProtobufCField.string(c.category), permanent: c.permanent != 0,
            remedy: ProtobufCField.string(c.remedy),
            retryAfterSeconds: c.retry_after_seconds > 0 ? c.retry_after_seconds : nil))
    }

    package func fill(_ c: inout Sidecar__V1__RuleInfo, arena: PackArena) {
        c.id = arena.string(id)
        c.n_match = rule.substrings.count
        c.match = arena.strings(rule.substrings)
        if let exitCode = rule.exitCode {
            c.optional_exit_code_case = SIDECAR__V1__RULE_INFO__OPTIONAL_EXIT_CODE_EXIT_CODE
            c.exit_code = exitCode
        }
        c.n_sqlite_codes = rule.sqlitePrimaryCodes.count
        if !rule.sqlitePrimaryCodes.isEmpty {
            let codes = arena.array(of: Int32.self, count: rule.sqlitePrimaryCodes.count)
            for (index, code) in rule.sqlitePrimaryCodes.enumerated() { codes[index] = code }
            c.sqlite_codes = codes
        }
        c.category = arena.string(rule.category)
        c.permanent = rule.permanent ? 1 : 0
        c.retry_after_seconds = rule.retryAfterSeconds ?? 0
        c.remedy = arena.string(rule.remedy)
    }
}

extension ListRulesResponse: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ListRulesResponse>) {
        sidecar__v1__list_rules_response__init(c)
    }

    package init(reading c: Sidecar__V1__ListRulesResponse) throws {
        self.init(rules: try ProtobufCField.messages(c.rules, count: c.n_rules))
    }

    package func fill(_ c: inout Sidecar__V1__ListRulesResponse, arena: PackArena) {
        c.n_rules = rules.count
        c.rules = arena.messages(rules)
    }
}
