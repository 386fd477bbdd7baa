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
                ? c.sqlite_code : nil))
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
    }

    /// By hand (`ClassifyRequestView`); tests hold it equal to protobuf-c's.
    package init(wireBytes: UnsafeRawBufferPointer) throws {
        let view = try ClassifyRequestView(wireBytes: wireBytes)
        report = FailureReport(
            message: String(decoding: view.message, as: UTF8.self), exitCode: view.exitCode,
            sqliteCode: view.sqliteCode)
    }
}

/// A ClassifyRequest read by hand and in place: `message` points into the
/// request and is valid only as long as it is. Every call of Classify
/// starts here, and the classifier matches the bytes without a String.
package struct ClassifyRequestView {
    package var message = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    package var exitCode: Int32?
    package var sqliteCode: Int32?

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
                default: try reader.skipField(tag: tag, knownNumbers: 1...3, of: "ClassifyRequest")
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
            remedy: ProtobufCField.string(c.remedy), rule: ProtobufCField.string(c.rule)))
    }

    package func fill(_ c: inout Sidecar__V1__ClassifyResponse, arena: PackArena) {
        c.category = arena.string(classification.category)
        c.permanent = classification.permanent ? 1 : 0
        c.remedy = arena.string(classification.remedy)
        c.rule = arena.string(classification.rule)
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
    }
}
