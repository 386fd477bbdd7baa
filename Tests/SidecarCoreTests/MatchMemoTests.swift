import XCTest

@testable import SidecarCore

/// The memo answers what the classifier answered for the very same request,
/// and asks it again for anything else.
final class MatchMemoTests: XCTestCase {
    private let classifier = ErrorClassifier()

    private func match(
        _ memo: inout MatchMemo, _ message: String, exit: Int32? = nil, sqlite: Int32? = nil, computed: inout Int
    ) -> ErrorClassifier.Match {
        var message = message
        return message.withUTF8 { bytes in
            memo.match(message: bytes, exitCode: exit, sqliteCode: sqlite) {
                computed += 1
                return classifier.match(message: bytes, exitCode: exit, sqliteCode: sqlite)
            }
        }
    }

    private func truth(_ message: String, exit: Int32? = nil, sqlite: Int32? = nil) -> ErrorClassifier.Match {
        var message = message
        return message.withUTF8 { classifier.match(message: $0, exitCode: exit, sqliteCode: sqlite) }
    }

    func testARepeatedRequestIsRememberedAndEveryOtherOneMatched() {
        var memo = MatchMemo()
        var computed = 0
        let requests: [(String, Int32?, Int32?)] = [
            ("ErrImageNeverPull", nil, nil), ("ErrImageNeverPull", 125, nil), ("ErrImageNeverPull", nil, 11),
            ("", 125, nil), ("", nil, 6), ("", nil, nil), ("database is locked", nil, nil), ("database is locked ", nil, nil),
            ("retry-after: 30 toomanyrequests", nil, nil), ("ünïcode — nothing known here", 1, nil),
        ]
        for (message, exit, sqlite) in requests {
            let answer = match(&memo, message, exit: exit, sqlite: sqlite, computed: &computed)
            XCTAssertEqual(answer, truth(message, exit: exit, sqlite: sqlite))
        }
        XCTAssertEqual(computed, requests.count, "each request differs from the others in something")
        for (message, exit, sqlite) in requests {
            let answer = match(&memo, message, exit: exit, sqlite: sqlite, computed: &computed)
            XCTAssertEqual(answer, truth(message, exit: exit, sqlite: sqlite))
        }
        // Ten requests in 256 slots may share one: at most a few are matched again.
        XCTAssertLessThanOrEqual(computed, requests.count + 3)
    }

    /// More messages than slots: each answer is still the classifier's.
    func testEveryAnswerIsTheClassifiersPastTheMemosSize() {
        var memo = MatchMemo()
        var computed = 0
        let messages = (0..<(MatchMemo.slotCount * 3)).map { index in
            index % 3 == 0 ? "pull access denied \(index)" : index % 3 == 1 ? "timeout \(index)" : "x\(index) ErrImageNeverPull"
        }
        for round in 0..<2 {
            for message in messages {
                XCTAssertEqual(match(&memo, message, computed: &computed), truth(message), "round \(round): \(message)")
            }
        }
        XCTAssertGreaterThan(computed, messages.count, "slots were reused")
    }

    func testALongMessageIsMatchedEveryTime() {
        var memo = MatchMemo()
        var computed = 0
        let long = String(repeating: "y", count: MatchMemo.longestMessageBytes) + " ErrImageNeverPull"
        for _ in 0..<3 { XCTAssertEqual(match(&memo, long, computed: &computed), truth(long)) }
        XCTAssertEqual(computed, 3)
    }
}
