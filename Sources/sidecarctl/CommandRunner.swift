import ArgumentParser
import Foundation
import SidecarClient
import SidecarCore

/// Runs a subcommand's call and turns failures into the documented exit
/// codes and a one-line message (or a JSON error object with --json).
enum CommandRunner {
    static func run(_ options: GlobalOptions, _ body: (SidecarClient) async throws -> Void) async throws {
        let client = SidecarClient(socketPath: options.socket, options: .init(clientName: "sidecarctl"))
        do {
            try await body(client)
        } catch let error as SidecarError {
            report(error, json: options.json)
            throw ExitCode(exitCode(for: error).rawValue)
        } catch let error as ExitCode {
            throw error
        } catch {
            report(SidecarError(.internal, "\(error)"), json: options.json)
            throw ExitCode(SidecarExitCode.no.rawValue)
        }
    }

    static func exitCode(for error: SidecarError) -> SidecarExitCode {
        if error.isUnreachable { return .unavailable }
        // Refused for who the caller is (an admin method, another uid's
        // key, a file it may not read): permanent too, but 77 says why.
        if error.code == .permissionDenied { return .noPermission }
        // The daemon's word that asking again cannot help (an image whose
        // build fails for good) wins over what the code alone suggests.
        if error.detail?.permanent == true { return .no }
        switch error.code {
        case .permissionDenied, .unauthenticated: return .noPermission
        case .invalidArgument: return .usage
        // FAILED_PRECONDITION without a permanent detail: a protocol revision
        // mismatch, which happens mid-upgrade, when asking again later helps.
        // (EnsureImage's permanent failures carry permanent = true, above.)
        case .unavailable, .deadlineExceeded, .resourceExhausted, .aborted, .failedPrecondition: return .tempFail
        default: return .no
        }
    }

    private static func report(_ error: SidecarError, json: Bool) {
        if json {
            var object: [String: Any] = ["code": error.code.name, "message": error.message]
            if let detail = error.detail {
                object["detail"] = [
                    "category": detail.category, "permanent": detail.permanent, "remedy": detail.remedy,
                    "retry_after_seconds": detail.retryAfterSeconds,
                ] as [String: Any]
            }
            Output.json(["error": object])
        } else {
            Output.error("sidecarctl: \(error.message.isEmpty ? error.code.name : "\(error.code.name): \(error.message)")")
            if let remedy = error.detail?.remedy, !remedy.isEmpty { Output.error("remedy: \(remedy)") }
        }
    }
}

enum Output {
    static func line(_ text: String) {
        print(text)
        fflush(nil)  // all streams: Swift 6 rejects the global `stdout`
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// One JSON object on one line, keys sorted so output is stable.
    static func json(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return
        }
        line(String(decoding: data, as: UTF8.self))
    }
}
