import SidecarCore
import XCTest

/// The pages of a list method, on their own: every item once, in key
/// order, each page within its size and byte budget, and tokens that only
/// their method accepts.
final class PagingTests: XCTestCase {
    private struct Item: Equatable {
        var key: String
        var bytes: Int
    }

    private func everyPage(_ items: [Item], size: Int, budget: Int) throws -> [[Item]] {
        var pages: [[Item]] = []
        var token = ""
        repeat {
            let request = try PageRequest(pageSize: UInt32(size), pageToken: token, method: "ListThings")
            let page = items.shuffled().page(request, byteBudget: budget, key: \.key, bytes: \.bytes)
            pages.append(page.items)
            token = page.nextPageToken
        } while !token.isEmpty && pages.count <= items.count + 1
        return pages
    }

    func testPagesHoldEveryItemOnceInKeyOrderWithinTheirSizeAndBudget() throws {
        var generator = SystemRandomNumberGenerator()
        let items = (0..<500).map { Item(key: "k\(UInt32.random(in: 0...UInt32.max, using: &generator))-\($0)", bytes: Int.random(in: 1...300)) }
        for (size, budget) in [(7, Int.max), (1000, 2000), (1, 1), (50, 10_000)] {
            let pages = try everyPage(items, size: size, budget: budget)
            XCTAssertEqual(pages.flatMap { $0 }.map(\.key), items.map(\.key).sorted(), "size \(size), budget \(budget)")
            for page in pages {
                XCTAssertFalse(page.isEmpty, "a page always moves on")
                XCTAssertLessThanOrEqual(page.count, size)
                if page.count > 1 { XCTAssertLessThanOrEqual(page.map(\.bytes).reduce(0, +), budget) }
            }
        }
        XCTAssertEqual(try everyPage([], size: 10, budget: 100), [[]], "an empty list is one empty last page")
    }

    func testATokenIsGoodOnlyForItsMethodAndKeysSurviveIt() throws {
        let key = "tâsk/ü 🚀 \u{1} end"
        let token = PageRequest.token(after: key, method: "ListRetries")
        XCTAssertTrue(token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }, token)
        XCTAssertEqual(try PageRequest(pageSize: 0, pageToken: token, method: "ListRetries").after, key)
        XCTAssertEqual(try PageRequest(pageSize: 0, pageToken: "", method: "ListRetries").size, PageRequest.defaultSize)
        XCTAssertEqual(try PageRequest(pageSize: 1_000_000, pageToken: "", method: "ListRetries").size, PageRequest.maxSize)
        for bad in [PageRequest.token(after: key, method: "ListLeases"), "not base64!", "QUJD", token + "A"] {
            XCTAssertThrowsError(try PageRequest(pageSize: 0, pageToken: bad, method: "ListRetries"), bad)
        }
    }
}
