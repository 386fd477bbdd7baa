import Foundation
import XCTest

@testable import SidecarCore

/// Issue 13, part 5: real messages (Tests/Fixtures/error-corpus.json), each
/// with where it comes from and the category, permanence and remedy the
/// built-in rules must give it. One table-driven test over all of them.
final class ErrorCorpusTests: XCTestCase {
    private struct Corpus: Decodable {
        var messages: [Entry]
    }

    private struct Entry: Decodable {
        var tool: String
        var message: String
        var source: String
        var category: String
        var permanent: Bool
        var image: String?
        var exit_code: Int32?
        var sqlite_code: Int32?
        var retry_after_seconds: Double?
    }

    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/error-corpus.json").standardizedFileURL.path

    private func corpus() throws -> [Entry] {
        try JSONDecoder().decode(Corpus.self, from: Data(contentsOf: URL(fileURLWithPath: Self.path))).messages
    }

    func testEveryMessageGetsItsCategoryPermanenceAndTheCategorysRemedy() throws {
        let entries = try corpus()
        XCTAssertGreaterThanOrEqual(entries.count, 80)
        let classifier = ErrorClassifier()
        var right = 0
        for entry in entries {
            let what = "\(entry.tool): \(entry.message.prefix(160)) [\(entry.source)]"
            XCTAssertFalse(entry.source.isEmpty, what)
            let verdict = classifier.classify(FailureReport(
                message: entry.message, exitCode: entry.exit_code, sqliteCode: entry.sqlite_code, image: entry.image))
            XCTAssertEqual(verdict.category, entry.category, what)
            XCTAssertEqual(verdict.permanent, entry.permanent, what)
            if verdict.category == entry.category && verdict.permanent == entry.permanent { right += 1 }
            // The remedy is the category's one remedy, naming the entry's image.
            guard let category = BuiltinCategory.all.first(where: { $0.name == entry.category }) else {
                XCTFail("\(what): no built-in category \(entry.category)")
                continue
            }
            XCTAssertEqual(category.permanent, entry.permanent, "\(what): the corpus and the category agree")
            XCTAssertEqual(verdict.remedy, RemedyTemplate(category.remedy).filled(image: entry.image), what)
            if let image = entry.image, category.remedy.contains("{image") {
                XCTAssertTrue(verdict.remedy.contains(image), what)
            }
            if let delay = entry.retry_after_seconds {
                XCTAssertEqual(verdict.retryAfterSeconds ?? -1, delay, accuracy: delay * 1e-6, what)
            }
            if entry.permanent { XCTAssertNil(verdict.retryAfterSeconds, what) }
        }
        let share = Double(right) / Double(entries.count)
        print("error corpus: \(right) of \(entries.count) messages get their category and permanence (\(String(format: "%.1f", share * 100))%)")
    }

    /// The corpus covers the tools issue 13 names, and every built-in
    /// category that matches messages has at least one real one.
    func testTheCorpusCoversTheToolsAndTheCategories() throws {
        let entries = try corpus()
        let tools = Set(entries.map(\.tool))
        for tool in ["kubelet", "containerd", "docker", "containers/image", "podman", "buildah", "skopeo", "runc", "crun",
            "kube-scheduler", "kube-apiserver", "sqlite", "registry"]
        {
            XCTAssertTrue(tools.contains(tool), tool)
        }
        let covered = Set(entries.map(\.category))
        for category in BuiltinCategory.all where category.name != "container_runtime" {
            XCTAssertTrue(covered.contains(category.name), "no real message for \(category.name)")
        }
    }

    /// docs/classification.md lists every category with its one remedy and
    /// every built-in rule in matching order: the page stays the code's.
    func testTheReferencePageListsEveryCategoryAndRule() throws {
        let page = try String(contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../docs/classification.md").standardizedFileURL.path, encoding: .utf8)
        for category in BuiltinCategory.all {
            let delay = category.retryAfterSeconds.map { $0 == $0.rounded() ? "\(Int($0)) s" : "\($0) s" } ?? "—"
            let row = "| `\(category.name)` | \(category.permanent ? "yes" : "no") | \(delay) | "
                + category.remedy.replacingOccurrences(of: "|", with: "\\|") + " |"
            XCTAssertTrue(page.contains(row), "docs/classification.md lacks: \(row)")
        }
        var from = page.startIndex
        for (id, rule) in ErrorClassifier().rules {
            guard let found = page.range(of: "| `\(id)` | `\(rule.category)` |", range: from..<page.endIndex) else {
                XCTFail("docs/classification.md lacks \(id), or lists it out of order")
                continue
            }
            from = found.upperBound
        }
    }
}
