import Foundation
import SidecarClient

/// Waits for a task's value at most `seconds`; on time-out the task is
/// cancelled (so a stuck stream ends) and its value after that is returned.
/// A test fails on a wrong value instead of hanging the suite.
func value<T: Sendable>(of task: Task<T, Never>, within seconds: Double) async -> T {
    let watchdog = Task {
        try? await Task.sleep(for: .seconds(seconds))
        if !Task.isCancelled { task.cancel() }
    }
    let result = await task.value
    watchdog.cancel()
    return result
}

/// Polls an async condition until it holds or `timeout` passes.
func waitUntil(timeout: TimeInterval = 5, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// Waits until the daemon counts `count` open Watch streams, so events
/// published after it reach a stream just started.
func waitForWatchers(_ client: SidecarClient, count: Int = 1) async throws {
    let subscribed = try await waitUntil { try await client.metrics().contains("\nsidecar_watchers \(count)\n") }
    if !subscribed { throw DaemonFailure(message: "the Watch stream was not subscribed within the time-out") }
}
