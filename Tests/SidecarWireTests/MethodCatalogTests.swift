import CProtobufC
import SidecarProtoC
import XCTest

@testable import SidecarWire

/// `SidecarMethods` against the services protobuf-c generated from
/// sidecar.proto: a method added, renamed or retyped in the schema and not
/// in the table (or the other way round) fails here, not in a call.
final class MethodCatalogTests: XCTestCase {
    private struct SchemaMethod {
        var name: String
        var input: UnsafePointer<ProtobufCMessageDescriptor>
        var output: UnsafePointer<ProtobufCMessageDescriptor>
    }

    /// The Debug service's methods are called "Debug.<name>" on the wire.
    private var schemaMethods: [SchemaMethod] {
        methods(of: sidecar__v1__sidecar__descriptor, wirePrefix: "")
            + methods(of: sidecar__v1__debug__descriptor, wirePrefix: "Debug.")
    }

    private func methods(of service: ProtobufCServiceDescriptor, wirePrefix: String) -> [SchemaMethod] {
        (0..<Int(service.n_methods)).map { index in
            let method = service.methods[index]
            return SchemaMethod(name: wirePrefix + String(cString: method.name), input: method.input, output: method.output)
        }
    }

    func testTheTableHasOneEntryPerRPCAndNoOther() {
        XCTAssertEqual(SidecarMethods.all.map(\.name).sorted(), schemaMethods.map(\.name).sorted())
    }

    func testEveryEntryHasTheSchemasMessages() {
        for method in schemaMethods {
            guard let entry = SidecarMethods.all.first(where: { $0.name == method.name }) else {
                XCTFail("no entry for \(method.name)")
                continue
            }
            assertSame(entry.request, method.input, "request of \(method.name)")
            assertSame(entry.response, method.output, "response of \(method.name)")
        }
    }

    /// The shared `EmptyMessage` is right for any message without fields.
    private func assertSame(
        _ swift: UnsafePointer<ProtobufCMessageDescriptor>, _ schema: UnsafePointer<ProtobufCMessageDescriptor>,
        _ what: String, line: UInt = #line
    ) {
        let schemaName = String(cString: schema.pointee.name)
        if swift == EmptyMessage.descriptor {
            XCTAssertEqual(schema.pointee.n_fields, 0, "\(what): EmptyMessage cannot carry the fields of \(schemaName)", line: line)
        } else {
            XCTAssertEqual(String(cString: swift.pointee.name), schemaName, what, line: line)
        }
    }
}
