import Foundation
import SidecarClient
import SidecarCore
import SidecarWire
import XCTest

/// List methods page: a page never outgrows the message limit, the pages
/// together hold every item once in key order, and a token is good only
/// for the method that gave it.
final class PagingTests: XCTestCase {
    func testPagesStayUnderTheMessageLimitAndTogetherHoldEveryKeyOnce() async throws {
        let daemon = try DaemonProcess(config: DaemonProcess.baseConfig + """
            [limits]
            max_message_bytes = 65536
            """)
        let client = daemon.client()
        let longError = "connection reset by peer " + String(repeating: "x", count: 1000)
        let keys = (0..<150).map { String(format: "task-%03d", $0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for key in keys {
                group.addTask { _ = try await client.reserveRetrySlot(key: key, lastError: longError) }
            }
            try await group.waitForAll()
        }

        var seen: [String] = []
        var token = ""
        var pages = 0
        repeat {
            let page = try await client.call(SidecarMethods.listRetries, ListRetriesRequest(pageToken: token))
            XCTAssertFalse(page.retries.isEmpty, "a page always moves on")
            XCTAssertLessThanOrEqual(page.wireBytes().count, 65536)
            seen += page.retries.map(\.key)
            token = page.nextPageToken
            pages += 1
        } while !token.isEmpty && pages < 100
        XCTAssertGreaterThan(pages, 1, "150 keys of 2 KB do not fit in one 64 KiB answer")
        XCTAssertEqual(seen, keys)
        let all = try await client.listRetries()
        XCTAssertEqual(all.map(\.key), keys, "the client follows the pages")

        let small = try await client.call(SidecarMethods.listRetries, ListRetriesRequest(keyPrefix: "task-1", pageSize: 7))
        XCTAssertEqual(small.retries.map(\.key), Array(keys[100..<107]))
        let next = try await client.call(
            SidecarMethods.listRetries, ListRetriesRequest(keyPrefix: "task-1", pageSize: 7, pageToken: small.nextPageToken))
        XCTAssertEqual(next.retries.first?.key, "task-107")
    }

    func testATokenIsGoodOnlyForTheMethodThatGaveIt() async throws {
        let daemon = try DaemonProcess()
        let client = daemon.client()
        for holder in ["a", "b", "c"] { _ = try await client.acquireLease(target: "agent", holder: holder, ttlSeconds: 60) }
        let first = try await client.call(SidecarMethods.listLeases, ListLeasesRequest(pageSize: 2))
        XCTAssertEqual(first.leases.count, 2)
        XCTAssertFalse(first.nextPageToken.isEmpty)
        let rest = try await client.call(SidecarMethods.listLeases, ListLeasesRequest(pageSize: 2, pageToken: first.nextPageToken))
        XCTAssertEqual(rest.leases.count, 1)
        XCTAssertEqual(rest.nextPageToken, "", "the last page says so")
        XCTAssertEqual((first.leases + rest.leases).map(\.id), (first.leases + rest.leases).map(\.id).sorted())
        for token in [first.nextPageToken, "not base64!", "QUJD"] {
            do {
                _ = try await client.call(SidecarMethods.listRetries, ListRetriesRequest(pageToken: token))
                XCTFail("ListRetries took the token \(token)")
            } catch let error as SidecarError {
                XCTAssertEqual(error.code, .invalidArgument, error.message)
            }
        }
    }
}
