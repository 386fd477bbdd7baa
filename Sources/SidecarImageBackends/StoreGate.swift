/// Orders work on the OCI layout: verifications run side by side (shared);
/// a change (import, repair, removal, garbage collection) runs alone
/// (exclusive), so no blob is removed while anything reads it and no two
/// changes race on `index.json`. First come, first served: a waiting change
/// holds back later readers. Loop thread only.
final class StoreGate {
    /// Called when the work may start; it calls `release` when done.
    typealias Work = (_ release: @escaping () -> Void) -> Void

    private var readers = 0
    private var writing = false
    private var waiting: [(exclusive: Bool, work: Work)] = []

    func shared(_ work: @escaping Work) {
        waiting.append((false, work))
        admit()
    }

    func exclusive(_ work: @escaping Work) {
        waiting.append((true, work))
        admit()
    }

    private func admit() {
        while let next = waiting.first, !writing {
            if next.exclusive {
                guard readers == 0 else { return }
                writing = true
            } else {
                readers += 1
            }
            waiting.removeFirst()
            let exclusive = next.exclusive
            var released = false
            next.work { [self] in
                guard !released else { return }
                released = true
                if exclusive { writing = false } else { readers -= 1 }
                admit()
            }
        }
    }
}
