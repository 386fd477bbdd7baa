import Foundation
import XCTest

@testable import SidecarCore

final class ClassifierTests: XCTestCase {
    private let classifier = ErrorClassifier()

    private func classify(_ message: String, exit: Int32? = nil, sqlite: Int32? = nil) -> Classification {
        classifier.classify(FailureReport(message: message, exitCode: exit, sqliteCode: sqlite))
    }

    func testLowercasingChangesOnlyASCIICapitalsInEveryLane() {
        let all = (0...255).map { UInt8($0) }
        for shift in 0..<8 {
            let text = Array(repeating: UInt8(ascii: "Q"), count: shift) + all + [0x41, 0x5a, 0xc3]
            let expected = text.map { $0 >= 0x41 && $0 <= 0x5a ? $0 + 0x20 : $0 }
            let lowered = text.withUnsafeBufferPointer { ErrorClassifier.withASCIILowercased($0) { Array($0) } }
            XCTAssertEqual(lowered, expected, "shift \(shift)")
        }
        XCTAssertEqual(classify("DATABASE DISK IMAGE IS MALFORMED").category, "db_corrupt")
    }

    func testRemedyNamesTheCallersImageAndNeverOneFromTheMessage() {
        // Issue 13: skopeo's log timestamp was taken for the tag.
        let message = #"time="2026-12-01T08:09:00Z" level=fatal msg="initializing source docker://127.0.0.1:5000/agent/x:1: "#
            + "reading manifest 1 in 127.0.0.1:5000/agent/x: manifest unknown: manifest unknown\""
        let named = classifier.classify(FailureReport(message: message, image: "127.0.0.1:5000/agent/x:1"))
        XCTAssertEqual(named.category, "image_not_found")
        XCTAssertTrue(named.remedy.contains("127.0.0.1:5000/agent/x:1"), named.remedy)
        XCTAssertFalse(named.remedy.contains("2026"), named.remedy)
        let unnamed = classify(message)
        XCTAssertTrue(unnamed.remedy.hasPrefix("The registry has no image by that reference:"), unnamed.remedy)
        // A quoted reference in the message is not read either.
        let quoted = classify(#"pull of "registry.local/agent:2" failed: ErrImagePull"#)
        XCTAssertFalse(quoted.remedy.contains("registry.local"), quoted.remedy)
        XCTAssertEqual(quoted.remedy, "Pulling the image failed and may succeed later; if it keeps failing, check the registry's "
            + "reachability and the credentials the pull uses.")
        // The rule id of a config rule is its index; both slot forms fill.
        let configured = ErrorClassifier(configRules: [
            ClassificationRule(name: "x", substrings: ["ErrImagePull"], category: "ours", permanent: true, remedy: "fix {image}, {image|then} go")
        ])
        let verdict = configured.classify(FailureReport(message: "ErrImagePull 'a/b:1'", image: "c/d:2"))
        XCTAssertEqual(verdict, Classification(category: "ours", permanent: true, remedy: "fix c/d:2, c/d:2 go", rule: "config:0"))
        XCTAssertEqual(configured.classify(FailureReport(message: "ErrImagePull")).remedy, "fix the image, then go")
    }

    /// Issue 13: no placeholder reaches a caller, whatever the message and
    /// with or without an image, for every built-in rule.
    func testNoBuiltinRemedyLeavesAPlaceholder() {
        let images: [String?] = [nil, "", "127.0.0.1:5000/agent/alpha:1", "agent:latest"]
        let hostile = ["{image}", "<image>", "{image|x}", #""quoted/ref:1""#, "time=\"2026-12-01T08:09:00Z\""]
        for (id, rule) in classifier.rules {
            var messages = rule.substrings.flatMap { needle in hostile.map { "\($0) \(needle) \($0)" } }
            if rule.substrings.isEmpty { messages.append("") }
            for message in messages {
                for image in images {
                    let verdict = classifier.classify(FailureReport(
                        message: message, exitCode: rule.exitCode, sqliteCode: rule.sqlitePrimaryCodes.first, image: image))
                    XCTAssertEqual(verdict.rule, id, "\(message) should match \(id)")
                    // What the message brought may appear; nothing else in braces or angles may.
                    var remedy = verdict.remedy
                    if let image, !image.isEmpty { remedy = remedy.replacingAll(image, with: "IMAGE") }
                    XCTAssertFalse(remedy.contains("{") || remedy.contains("}") || remedy.contains("<image>"), "\(id): \(verdict.remedy)")
                    XCTAssertFalse(remedy.isEmpty, id)
                    if let image, !image.isEmpty, rule.remedy.contains("{image") {
                        XCTAssertTrue(verdict.remedy.contains(image), "\(id) names the image: \(verdict.remedy)")
                    }
                    XCTAssertFalse(verdict.remedy.contains("  "), "\(id): \(verdict.remedy)")
                }
            }
        }
    }

    func testEachBuiltinCategoryHasOneRemedyPermanenceAndDelay() {
        var seen: [String: ClassificationRule] = [:]
        for (id, rule) in classifier.rules {
            let category = BuiltinCategory.named(rule.category)
            XCTAssertEqual(rule.remedy, category.remedy, id)
            XCTAssertEqual(rule.permanent, category.permanent, id)
            XCTAssertEqual(rule.retryAfterSeconds, category.retryAfterSeconds, id)
            if let first = seen[rule.category] { XCTAssertEqual(first.remedy, rule.remedy, id) }
            seen[rule.category] = rule
        }
        for category in BuiltinCategory.all where category.permanent {
            XCTAssertNil(category.retryAfterSeconds, category.name)
        }
        XCTAssertEqual(Set(BuiltinCategory.all.map(\.name)).count, BuiltinCategory.all.count, "names are unique")
        XCTAssertEqual(Set(seen.keys), Set(BuiltinCategory.all.map(\.name)), "every category has a rule")
    }

    func testRetryAfterComesFromTheMessageElseTheRule() {
        let cases: [(String, Double?)] = [
            ("toomanyrequests: You have reached your pull rate limit.", 60),
            ("toomanyrequests: retry-after: 333.011µs, allowed: 44000/minute", 0.000333011),
            ("GET https://ghcr.io/v2/x/manifests/1: TOOMANYREQUESTS: retry-after: 1.104056ms, allowed: 44000/minute", 0.001104056),
            ("429 Too Many Requests\r\nRetry-After: 30\r\n", 30),
            ("too many requests, please retry after 1m30s", 90),
            ("rate limit exceeded; try again in 2 minutes", 120),
            (#"{"reason":"TooManyRequests","details":{"retryAfterSeconds":7},"code":429,"message":"Too many requests"}"#, 7),
            ("Too many requests: Retry-After: Wed, 21 Oct 2015 07:28:00 GMT", 60),
            ("dial tcp 127.0.0.1:5000: connect: connection refused", 5),
            // A permanent verdict has no delay, whatever the message says.
            ("manifest unknown; retry after 30s", nil),
        ]
        for (message, expected) in cases {
            let verdict = classify(message)
            if let expected {
                XCTAssertEqual(verdict.retryAfterSeconds ?? -1, expected, accuracy: expected * 1e-9, message)
            } else {
                XCTAssertNil(verdict.retryAfterSeconds, message)
            }
        }
        XCTAssertNil(classify("the moon is in the wrong phase, retry after 5s").retryAfterSeconds, "no rule, no advice")
        XCTAssertEqual(classify("toomanyrequests: retry after 1000000h").retryAfterSeconds, RetryAfterScanner.maxSeconds)
    }

    /// The one-pass matcher answers what trying each rule's substrings in
    /// order would, over messages made of the rules' own substrings.
    func testMatcherAgreesWithRulesTriedInOrder() {
        var generator = SplitMix(seed: 13)
        // Short config substrings (searched one by one), then one of four
        // bytes, which narrows the sliding window to four.
        let configs: [[ClassificationRule]] = [
            [
                ClassificationRule(name: "config:0", substrings: ["oom", "ab"], exitCode: 137, category: "oom", permanent: false, remedy: ""),
                ClassificationRule(name: "config:1", substrings: ["x"], category: "x", permanent: false, remedy: ""),
            ],
            [ClassificationRule(name: "config:0", substrings: ["oomk", "e: e"], category: "oom", permanent: false, remedy: "")],
        ]
        for config in configs {
            let rules = ErrorClassifier(configRules: config).rules.map(\.rule)
            let matcher = RuleMatcher(rules)
            let needles = rules.flatMap(\.substrings)
            let filler = ["", " ", "zz", "error: ", "\u{b5}", "ab", "rea", "manif", "e", "oom"]
            for _ in 0..<3000 {
                var message = ""
                for _ in 0..<Int(generator.next() % 4) {
                    message += filler[Int(generator.next() % UInt64(filler.count))]
                    let needle = needles[Int(generator.next() % UInt64(needles.count))]
                    // Sometimes cut, so near-misses are tried too.
                    message += generator.next() % 4 == 0 ? String(needle.dropLast()) : needle
                }
                let exit: Int32? = generator.next() % 3 == 0 ? [125, 137, 1][Int(generator.next() % 3)] : nil
                let sqlite: Int32? = generator.next() % 3 == 0 ? [5, 11, 267, 19][Int(generator.next() % 4)] : nil
                let bytes = Array(message.utf8)
                let found = bytes.withUnsafeBytes { matcher.firstMatch(lowercasedMessage: $0, exitCode: exit, sqliteCode: sqlite) }
                let expected = rules.firstIndex { rule in
                    var matched = false
                    if !rule.substrings.isEmpty {
                        guard rule.substrings.contains(where: { message.contains($0) }) else { return false }
                        matched = true
                    }
                    if let code = rule.exitCode {
                        guard exit == code else { return false }
                        matched = true
                    }
                    if !rule.sqlitePrimaryCodes.isEmpty {
                        guard let sqlite, rule.sqlitePrimaryCodes.contains(sqlite & 0xff) else { return false }
                        matched = true
                    }
                    return matched
                }
                XCTAssertEqual(found, expected, "\(message) exit \(String(describing: exit)) sqlite \(String(describing: sqlite))")
            }
        }
    }

    func testSeed003ErrImageNeverPullIsPermanentAndNamesTheImage() {
        let verdict = classify(
            #"Failed to pull image: Container image "optio-node:latest" is not present with pull policy of Never (ErrImageNeverPull)"#)
        XCTAssertEqual(verdict.category, "image_missing")
        XCTAssertTrue(verdict.permanent)
        XCTAssertTrue(verdict.remedy.contains("sidecarctl ensure-image with the image's name"), verdict.remedy)
        let named = classifier.classify(FailureReport(message: "ErrImageNeverPull", image: "optio-node:latest"))
        XCTAssertTrue(named.remedy.contains("sidecarctl ensure-image optio-node:latest"), named.remedy)
        XCTAssertEqual(verdict.rule, "builtin:err-image-never-pull")
    }

    func testPermanentImageErrors() {
        for message in [
            "InvalidImageName: couldn't parse image reference",
            "Error response from daemon: manifest for agent:9 not found: manifest unknown: manifest unknown",
            "pull access denied for agent, repository does not exist or may require 'docker login'",
            "Unable to find image 'agent:latest' locally",
        ] {
            XCTAssertTrue(classify(message).permanent, message)
        }
        XCTAssertEqual(classify("Unable to find image 'agent:latest' locally").category, "image_missing")
    }

    func testPullBackOffIsTransient() {
        XCTAssertEqual(classify("Back-off pulling image \"x:1\": ImagePullBackOff").category, "image_pull")
        XCTAssertFalse(classify("ImagePullBackOff").permanent)
        XCTAssertFalse(classify("ErrImagePull: connection reset by peer").permanent)
    }

    func testSpecificRuleWinsOverGeneralOne() {
        // ErrImagePull alone is transient; with "manifest unknown" it is not.
        XCTAssertTrue(classify("ErrImagePull: manifest unknown").permanent)
    }

    func testExitCode125WhenNoMessageRuleMatches() {
        let verdict = classify("container exited", exit: 125)
        XCTAssertEqual(verdict.category, "container_runtime")
        XCTAssertTrue(verdict.permanent)
        XCTAssertEqual(classify("Unable to find image 'a:b' locally", exit: 125).rule, "builtin:unable-to-find-image")
        XCTAssertEqual(classify("boom", exit: 1), .unknown)
    }

    func testSQLiteCorruptionMessagesAndCodes() {
        for message in ["database disk image is malformed", "SQLITE_CORRUPT: x", "file is not a database", "SQLITE_NOTADB"] {
            let verdict = classify(message)
            XCTAssertEqual(verdict.category, "db_corrupt", message)
            XCTAssertFalse(verdict.permanent, "a torn view heals on respawn (seed 001)")
        }
        XCTAssertEqual(classify("", sqlite: 11).category, "db_corrupt")
        XCTAssertEqual(classify("", sqlite: 267).category, "db_corrupt", "SQLITE_CORRUPT_VTAB is an extended code of 11")
        XCTAssertEqual(classify("", sqlite: 26).category, "db_corrupt")
        XCTAssertEqual(classify("", sqlite: 5).category, "db_busy")
        XCTAssertEqual(classify("", sqlite: 1), .unknown)
    }

    func testUnknownIsTransientWithNoRule() {
        XCTAssertEqual(classify("the moon is in the wrong phase"), .unknown)
    }

    func testConfigRulesComeFirstAndMatchCaseInsensitively() {
        let custom = ErrorClassifier(configRules: [
            ClassificationRule(name: "config:0", substrings: ["Quota Exceeded"], category: "quota", permanent: true, remedy: "Raise it."),
            ClassificationRule(name: "config:1", substrings: ["errimageneverpull"], category: "ours", permanent: false, remedy: ""),
        ])
        let quota = custom.classify(FailureReport(message: "403: QUOTA EXCEEDED for project"))
        XCTAssertEqual(quota, Classification(category: "quota", permanent: true, remedy: "Raise it.", rule: "config:0"))
        let delayed = ErrorClassifier(configRules: [
            ClassificationRule(name: "config:0", substrings: ["slow"], category: "slow", permanent: false, remedy: "", retryAfterSeconds: 9)
        ])
        XCTAssertEqual(delayed.classify(FailureReport(message: "too slow")).retryAfterSeconds, 9)
        XCTAssertEqual(delayed.classify(FailureReport(message: "too slow; retry after 2s")).retryAfterSeconds, 2)
        XCTAssertEqual(custom.classify(FailureReport(message: "ErrImageNeverPull")).category, "ours")
    }

    func testRuleWithSeveralConditionsNeedsAll() {
        let rule = ClassificationRule(name: "r", substrings: ["oom"], exitCode: 137, category: "oom", permanent: false, remedy: "")
        let custom = ErrorClassifier(configRules: [rule])
        XCTAssertEqual(custom.classify(FailureReport(message: "OOM killed", exitCode: 137)).category, "oom")
        XCTAssertEqual(custom.classify(FailureReport(message: "OOM killed", exitCode: 1)).category, "unknown")
    }
}

/// A small deterministic generator for the matcher's agreement test.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        replacingOccurrences(of: target, with: replacement)
    }
}
