import Foundation
import SidecarClient
import SidecarCore

/// The wrapper's loop: prepare (ensure, lease, check), run the engine, and
/// on a failure decide whether to run it again. Returns the exit status.
struct RunAttempts {
    let engine: [String]
    let image: String
    let lease: Bool
    let retryKey: String?
    let policy: String
    let databases: [String]
    let required: Bool
    let global: GlobalOptions

    func say(_ text: String) {
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) { Output.error("sidecarctl run: \(line)") }
    }

    func run() async -> Int32 {
        let client = SidecarClient(socketPath: global.socket, options: .init(clientName: "sidecarctl-run"))
        let me = ProcessIdentity.current()
        var leaseID: String?
        // A signal between two runs of the engine ends the wrapper; its
        // lease ends with it (the daemon watches this process).
        let signals = SignalForwarder { signal in exit(128 + signal) }
        defer { withExtendedLifetime(signals) {} }
        var ensuredAfterMissing = false
        var sidecarReachable = true
        while true {
            if sidecarReachable {
                switch await prepare(client, me: me, leaseID: &leaseID) {
                case .ready: break
                case .withoutSidecar: sidecarReachable = false
                case .stop(let status): return await finish(client, leaseID: leaseID, status: status)
                case .retry(let lastError):
                    if let status = await waitForRetry(client, lastError: lastError, exitCode: nil) {
                        return await finish(client, leaseID: leaseID, status: status)
                    }
                    continue
                }
            }
            let ended: EngineProcess.Ended
            do {
                ended = try await EngineProcess.run(engine, signals: signals)
            } catch {
                say("\(error)")
                return await finish(client, leaseID: leaseID, status: 127)
            }
            if ended.status == 0 {
                if let retryKey, sidecarReachable {
                    do {
                        try await client.completeAttempt(key: retryKey, success: true, timeout: callTimeout)
                    } catch {
                        say("could not report the success of \(retryKey): \(error)")
                    }
                }
                return await finish(client, leaseID: leaseID, status: 0)
            }
            guard sidecarReachable else { return ended.status }
            let failure = Self.failureText(ended)
            // Seed 002: the image vanished between the ensure and the spawn
            // (an external prune). Ensure it once more and run again.
            if ended.status == 125, !ensuredAfterMissing, await imageWasMissing(client, failure) {
                ensuredAfterMissing = true
                say("the engine could not find \(image): ensuring it again")
                continue
            }
            guard retryKey != nil else { return await finish(client, leaseID: leaseID, status: ended.status) }
            if let status = await waitForRetry(client, lastError: failure, exitCode: ended.status) {
                return await finish(client, leaseID: leaseID, status: status)
            }
        }
    }

    private var callTimeout: Duration? { global.callTimeout }

    private enum Preparation {
        case ready
        /// The sidecar cannot be reached and --required is not given.
        case withoutSidecar
        case stop(Int32)
        /// A transient failure, for the retry ledger when there is a key.
        case retry(String)
    }

    private func prepare(_ client: SidecarClient, me: ProcessIdentity?, leaseID: inout String?) async -> Preparation {
        do {
            let holder = lease && leaseID == nil ? "sidecarctl-run/\(me?.pid ?? getpid())" : ""
            let answer = try await client.ensureImage(
                image, leaseHolder: holder, leaseTTLSeconds: 0, leaseHolderProcess: holder.isEmpty ? nil : me, timeout: callTimeout)
            if let taken = answer.lease { leaseID = taken.id }
            if answer.outcome == .stale { say("warning: refreshing \(answer.ref) failed; an older valid copy is used: \(answer.detail)") }
            let findings = try await DatabaseGate.check(databases, with: client, timeout: callTimeout)
            for note in findings.notes { say(note) }
            if !findings.damaged.isEmpty {
                say("not running the engine: " + findings.damaged.joined(separator: "\n"))
                return .stop(SidecarExitCode.dataError.rawValue)
            }
            return .ready
        } catch let error as SidecarError {
            if error.isUnreachable && !required {
                say("going on without the sidecar (no --required): \(error.message)")
                return .withoutSidecar
            }
            let code = CommandRunner.exitCode(for: error)
            say("\(error.code.name): \(error.message)")
            if let remedy = error.detail?.remedy, !remedy.isEmpty { say("remedy: \(remedy)") }
            // A permanent answer (an image that cannot exist) stops at once.
            guard retryKey != nil, code == .tempFail else { return .stop(code.rawValue) }
            return .retry(error.message)
        } catch {
            say("\(error)")
            return .stop(SidecarExitCode.no.rawValue)
        }
    }

    /// Asks the ledger; nil when the wait is over and the engine should run
    /// again, else the status to exit with.
    private func waitForRetry(_ client: SidecarClient, lastError: String, exitCode: Int32?) async -> Int32? {
        guard let retryKey else { return SidecarExitCode.tempFail.rawValue }
        let decision: RetryDecision
        do {
            decision = try await client.reserveRetrySlot(
                key: retryKey, lastError: lastError, policy: policy, exitCode: exitCode, timeout: callTimeout)
        } catch {
            say("could not ask the retry ledger: \(error)")
            return exitCode ?? SidecarExitCode.tempFail.rawValue
        }
        switch decision {
        case .granted(let attempt, let delay, _):
            say("retry \(attempt) of \(retryKey) granted: running again in \(String(format: "%.3f", delay)) s")
            try? await Task.sleep(for: .milliseconds(Int((delay * 1000).rounded(.up))))
            return nil
        case .deniedPermanent(let category, let remedy):
            say("\(retryKey) failed permanently (\(category)); not running again")
            if !remedy.isEmpty { say("remedy: \(remedy)") }
            return SidecarExitCode.no.rawValue
        case .exhausted(let attempts, let firstError, let lastError):
            say("\(retryKey) has used its \(attempts) retries; not running again")
            say("first error: \(firstError)")
            say("last error:  \(lastError)")
            return SidecarExitCode.no.rawValue
        case .throttled(let retryAfter):
            say("the host's retry budget is spent; try again in \(String(format: "%.0f", retryAfter)) s")
            return SidecarExitCode.tempFail.rawValue
        }
    }

    private func imageWasMissing(_ client: SidecarClient, _ failure: String) async -> Bool {
        let verdict = try? await client.classify(FailureReport(message: failure, exitCode: 125), timeout: callTimeout)
        return verdict?.category == "image_missing"
    }

    /// Releases the lease (it would end with this process anyway) and
    /// passes the status on.
    private func finish(_ client: SidecarClient, leaseID: String?, status: Int32) async -> Int32 {
        if let leaseID {
            do {
                try await client.releaseLease(id: leaseID, timeout: callTimeout)
            } catch let error as SidecarError where error.code == .notFound {
            } catch {
                say("could not release lease \(leaseID): \(error)")
            }
        }
        await client.close()
        return status
    }

    /// The end of the engine's stderr (what the classifier and the ledger
    /// read), or its status when it said nothing.
    static func failureText(_ ended: EngineProcess.Ended) -> String {
        let text = ended.stderrTail.trimmingCharacters(in: .whitespacesAndNewlines)
        let end = text.count > 4096 ? String(text.suffix(4096)) : text
        return end.isEmpty ? "exited with status \(ended.status)" : end
    }
}
