import XCTest

@testable import SidecarCore

final class DurationTextTests: XCTestCase {
    func testParsesUnitsAndCombinations() {
        XCTAssertEqual(DurationText.parse("250ms"), 0.25)
        XCTAssertEqual(DurationText.parse("10s"), 10)
        XCTAssertEqual(DurationText.parse("5m"), 300)
        XCTAssertEqual(DurationText.parse("24h"), 86400)
        XCTAssertEqual(DurationText.parse("1h30m"), 5400)
        XCTAssertEqual(DurationText.parse("1.5s"), 1.5)
        XCTAssertEqual(DurationText.parse("0"), 0)
        XCTAssertEqual(DurationText.parse(" 2d "), 172_800)
    }

    func testRejectsWhatIsNotADuration() {
        for text in ["", "10", "s", "5 m", "-1s", "1x", "m5", "1..2s"] {
            XCTAssertNil(DurationText.parse(text), text)
        }
    }

    func testFormatIsTheShortestExactText() {
        XCTAssertEqual(DurationText.format(300), "5m")
        XCTAssertEqual(DurationText.format(0.25), "250ms")
        XCTAssertEqual(DurationText.format(86400), "24h")
        XCTAssertEqual(DurationText.format(90), "90s")
    }
}
