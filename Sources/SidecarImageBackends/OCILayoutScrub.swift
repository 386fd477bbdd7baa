import SidecarCore
import SidecarImages
import SidecarLoop
import SidecarOCI

extension OCILayoutBackend {
    var canScrub: Bool { true }

    func scrub(refs: [String], bytesPerSecond: Double, _ done: @escaping (Result<ScrubReport, ImageBackendFailure>) -> Void) {
        let scrub = OCIScrub(verifier: store.verifier)
        onPool(shared: true, { scrub.plan(refs: refs) }) { [self] plan in
            do {
                try LayoutScrubRun(backend: self, plan: plan, bytesPerSecond: bytesPerSecond, done: done).step()
            } catch {
                done(.failure(ImageBackendFailure(.unavailable, "cannot scrub: \(error)")))
            }
        }
    }
}

/// One scrub, blob by blob and slice by slice: each slice hashed on the
/// pool inside the store's gate (so no layout change runs beside it, and
/// changes wait at most one slice), and the next one started only when the
/// bytes so far fit the rate. Loop thread only.
final class LayoutScrubRun {
    private weak var backend: OCILayoutBackend?
    private let plan: OCIScrub.Plan
    private let verified: VerifiedBlobs
    private let bytesPerSecond: Double
    private let sliceBytes: Int
    private let done: (Result<ScrubReport, ImageBackendFailure>) -> Void
    private let timer: LoopTimer
    private let started = EventLoop.monotonicNanoseconds()
    private var index = 0
    private var current: OCIScrub.Hashing?
    private var bytesOfFinishedBlobs: Int64 = 0
    private var damages: [String: [String]] = [:]
    private var report = ScrubReport()

    init(
        backend: OCILayoutBackend, plan: OCIScrub.Plan, bytesPerSecond: Double,
        done: @escaping (Result<ScrubReport, ImageBackendFailure>) -> Void
    ) throws {
        self.backend = backend
        self.plan = plan
        verified = backend.store.verifier.verified
        self.bytesPerSecond = bytesPerSecond
        // About a tenth of a second's worth: the pace stays smooth and a
        // change waits little for the gate.
        sliceBytes = min(16 << 20, max(1 << 20, Int(bytesPerSecond / 10)))
        self.done = done
        timer = try LoopTimer(loop: backend.loop)
        report.images = UInt32(plan.images)
        for (ref, damage) in plan.unreadable { damages[ref, default: []].append(damage) }
    }

    func step() {
        guard let backend else { return end() }
        guard index < plan.blobs.count else { return end() }
        let hashing = current ?? OCIScrub.Hashing(blob: plan.blobs[index])
        current = hashing
        let (verified, sliceBytes) = (verified, sliceBytes)
        backend.onPool(shared: true, { hashing.slice(bytes: sliceBytes, verified: verified) }) { [self] verdict in
            if let verdict { record(verdict, of: hashing) }
            pace()
        }
    }

    private func record(_ verdict: OCIScrub.Verdict, of hashing: OCIScrub.Hashing) {
        bytesOfFinishedBlobs += hashing.hashedBytes
        index += 1
        current = nil
        switch verdict {
        case .intact:
            report.blobs += 1
        case .damaged(let damage):
            report.blobs += 1
            for ref in hashing.blob.refs { damages[ref, default: []].append(damage.description) }
        case .changed:
            report.skippedBlobs += 1
        }
    }

    /// Waits until the bytes hashed so far are due at the rate.
    private func pace() {
        let hashed = Double(bytesOfFinishedBlobs + (current?.hashedBytes ?? 0))
        let due = Double(started) + hashed / bytesPerSecond * 1e9
        let now = Double(EventLoop.monotonicNanoseconds())
        guard due > now + 1e6 else { return step() }
        timer.start(after: UInt64((due - now) / 1e6)) { [self] in step() }
    }

    private func end() {
        timer.close()
        report.bytes = UInt64(bytesOfFinishedBlobs)
        report.seconds = Double(EventLoop.monotonicNanoseconds() - started) / 1e9
        report.damaged = damages.keys.sorted().map { ScrubReport.Finding(ref: $0, damage: damages[$0]!.joined(separator: "; ")) }
        guard backend != nil else {
            return done(.failure(ImageBackendFailure(.unavailable, "the image backend closed during the scrub")))
        }
        done(.success(report))
    }
}
