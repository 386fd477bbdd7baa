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

    func testRemedyNamesTheQuotedImageOrSaysImage() {
        let named = classify(#"couldn't start: pull of "registry.local/agent:2" failed: ErrImagePull"#)
        XCTAssertEqual(named.remedy, "Pulling registry.local/agent:2 failed; a retry may succeed if the registry was unreachable.")
        let unnamed = classify("ErrImagePull")
        XCTAssertEqual(unnamed.remedy, "Pulling <image> failed; a retry may succeed if the registry was unreachable.")
        // A quoted word that is no reference is passed over.
        XCTAssertTrue(classify(#"pod "web" failed: ErrImagePull for 'agent:3'"#).remedy.hasPrefix("Pulling agent:3 failed"))
        // The rule id of a config rule is its index.
        let configured = ErrorClassifier(configRules: [
            ClassificationRule(name: "x", substrings: ["ErrImagePull"], category: "ours", permanent: true, remedy: "fix {image}")
        ])
        let verdict = configured.classify(FailureReport(message: "ErrImagePull 'a/b:1'"))
        XCTAssertEqual(verdict, Classification(category: "ours", permanent: true, remedy: "fix a/b:1", rule: "config:0"))
    }

    func testSeed003ErrImageNeverPullIsPermanentAndNamesTheImage() {
        let verdict = classify(
            #"Failed to pull image: Container image "optio-node:latest" is not present with pull policy of Never (ErrImageNeverPull)"#)
        XCTAssertEqual(verdict.category, "image_missing")
        XCTAssertTrue(verdict.permanent)
        XCTAssertTrue(verdict.remedy.contains("sidecarctl ensure-image optio-node:latest"), verdict.remedy)
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
        XCTAssertTrue(classify("Unable to find image 'agent:latest' locally").remedy.contains("agent:latest"))
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
        XCTAssertEqual(custom.classify(FailureReport(message: "ErrImageNeverPull")).category, "ours")
    }

    func testRuleWithSeveralConditionsNeedsAll() {
        let rule = ClassificationRule(name: "r", substrings: ["oom"], exitCode: 137, category: "oom", permanent: false, remedy: "")
        let custom = ErrorClassifier(configRules: [rule])
        XCTAssertEqual(custom.classify(FailureReport(message: "OOM killed", exitCode: 137)).category, "oom")
        XCTAssertEqual(custom.classify(FailureReport(message: "OOM killed", exitCode: 1)).category, "unknown")
    }
}
