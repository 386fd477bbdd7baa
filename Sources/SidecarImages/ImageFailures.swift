import SidecarCore

/// The errors EnsureImage answers, each with a detail (category, whether
/// asking again can help, a remedy) so that a runner can act on it.
enum ImageFailures {
    static func backendUnavailable(_ entry: ImageEntry, _ failure: ImageBackendFailure) -> SidecarError {
        SidecarError(
            .unavailable, "cannot check \(entry.spec.ref) with the image backend: \(failure.message)",
            detail: FailureDetail(
                category: "backend_unavailable", permanent: false,
                remedy: failure.remedy.isEmpty
                    ? "Check that the image backend (images.backend) works on this host, then ask again." : failure.remedy,
                retryAfterSeconds: 1))
    }

    static func jobFailed(
        _ entry: ImageEntry, kind: ImageJobKind, _ failure: ImageBackendFailure, backoff: Double, classifier: ErrorClassifier
    ) -> SidecarError {
        let spec = entry.spec
        let what = "\(kind.rawValue) of \(spec.name == spec.ref ? spec.ref : "\(spec.name) (\(spec.ref))")"
        var message = "\(what) failed: \(failure.message); next try in \(DurationText.format(backoff)) at the earliest"
        if !failure.output.isEmpty {
            message += "\n--- output (last \(failure.output.utf8.count) bytes) ---\n" + failure.output
        }
        let classified = classifier.classify(FailureReport(message: failure.message + "\n" + failure.output))
        let matched = classified.category != Classification.unknown.category
        if entry.isAdHoc {
            return SidecarError(.notFound, message, detail: FailureDetail(
                category: matched ? classified.category : "image_not_found", permanent: true,
                remedy: "\(spec.ref) is not configured and the backend cannot pull it: check the reference, or declare it under [[images.image]] with a build or a pull source.",
                retryAfterSeconds: backoff))
        }
        let category = matched ? classified.category : (failure.kind == .timedOut ? "job_timeout" : "\(kind.rawValue)_failed")
        let remedy = matched && !classified.remedy.isEmpty
            ? classified.remedy
            : kind == .build
                ? "Fix the build of \(spec.name) (its output is above); the next call after the back-off builds again."
                : "Check that \(spec.pull.isEmpty ? spec.ref : spec.pull) exists and its registry is reachable; the next call after the back-off pulls again."
        return SidecarError(.aborted, message, detail: FailureDetail(
            category: category, permanent: matched && classified.permanent, remedy: remedy, retryAfterSeconds: backoff))
    }

    static func backingOff(_ entry: ImageEntry, last: SidecarError, remaining: Double) -> SidecarError {
        var detail = last.detail ?? FailureDetail(category: "backing_off", permanent: false)
        detail.retryAfterSeconds = remaining
        return SidecarError(
            entry.isAdHoc ? .notFound : .failedPrecondition,
            "\(entry.spec.name) is backing off for another \(DurationText.format(remaining)) after its last job failed: \(last.message)",
            detail: detail)
    }

    static func baseUnavailable(_ entry: ImageEntry, base: String, _ error: SidecarError) -> SidecarError {
        SidecarError(error.code, "base image \(base) of \(entry.spec.name) is not available: \(error.message)", detail: error.detail)
    }

    static func noWayToMake(_ entry: ImageEntry) -> SidecarError {
        let remedy = entry.isAdHoc
            ? "Declare \(entry.spec.ref) under [[images.image]] with a build or a pull source, or set images.command.pull."
            : "Give image \(entry.spec.name) a build argv or a pull source in the config (or set images.command.build / pull)."
        return SidecarError(
            .notFound, "\(entry.spec.ref) is missing and there is no way to make it: no build and no pull is configured for it",
            detail: FailureDetail(category: "image_not_found", permanent: true, remedy: remedy))
    }
}
