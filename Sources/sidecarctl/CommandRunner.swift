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
        switch error.code {
        case .permissionDenied, .unauthenticated: return .noPermission
        case .invalidArgument: return .usage
        case .unavailable, .deadlineExceeded, .resourceExhausted, .aborted: return .tempFail
        default: return .no
        }
    }

    private static func report(_ error: SidecarError, json: Bool) {
        if json {
            Output.json(["error": ["code": error.code.name, "message": error.message]])
        } else {
            Output.error("sidecarctl: \(error.message.isEmpty ? error.code.name : "\(error.code.name): \(error.message)")")
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
