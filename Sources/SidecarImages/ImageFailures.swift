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

    /// A failed build or pull, classified from the tool's output with the
    /// reference the job used (the pull source, or the ref a build makes)
    /// as the image its remedy names. The verdict decides, configured ref
    /// or ad hoc alike (issue 13): transient is UNAVAILABLE (exit 75), with
    /// the next try no sooner than the delay the message asks for;
    /// permanent is NOT_FOUND when the image or repository does not exist,
    /// FAILED_PRECONDITION otherwise (exit 1 either way: the detail says
    /// permanent). The detail's retry-after is when the next job may run;
    /// the coordinator backs the image off for exactly that long.
    static func jobFailed(
        _ entry: ImageEntry, kind: ImageJobKind, _ failure: ImageBackendFailure, backoff: Double, classifier: ErrorClassifier
    ) -> SidecarError {
        let spec = entry.spec
        let used = kind == .pull && !spec.pull.isEmpty ? spec.pull : spec.ref
        let classified = classifier.classify(FailureReport(message: failure.message + "\n" + failure.output, image: used))
        let matched = classified.rule != Classification.unknown.rule
        let delay = classified.permanent ? backoff : max(backoff, classified.retryAfterSeconds ?? 0)
        let what = "\(kind.rawValue) of \(spec.name == spec.ref ? spec.ref : "\(spec.name) (\(spec.ref))")"
        var message = "\(what) failed: \(failure.message); next try in \(DurationText.format(delay)) at the earliest"
        if !failure.output.isEmpty {
            message += "\n--- output (last \(failure.output.utf8.count) bytes) ---\n" + failure.output
        }
        guard matched else {
            let category = failure.kind == .timedOut ? "job_timeout" : "\(kind.rawValue)_failed"
            let remedy = kind == .build
                ? "Fix the build of \(spec.name) (its output is above); the next call after the back-off builds again."
                : "Check that \(used) exists and its registry is reachable; the next call after the back-off pulls again."
            return SidecarError(.unavailable, message, detail: FailureDetail(
                category: category, permanent: false, remedy: remedy, retryAfterSeconds: delay))
        }
        let code: StatusCode = !classified.permanent
            ? .unavailable : Self.missingCategories.contains(classified.category) ? .notFound : .failedPrecondition
        return SidecarError(code, message, detail: FailureDetail(
            category: classified.category, permanent: classified.permanent, remedy: classified.remedy,
            retryAfterSeconds: delay))
    }

    /// Permanent categories that mean the image (or its repository) does
    /// not exist where it was looked for: NOT_FOUND rather than
    /// FAILED_PRECONDITION.
    static let missingCategories: Set<String> = ["image_not_found", "image_missing"]

    /// Asked again while the image backs off: the last failure's own code
    /// and detail (so the answer and the exit code stay what the failure
    /// was), with the time left as the retry-after.
    static func backingOff(_ entry: ImageEntry, last: SidecarError, remaining: Double) -> SidecarError {
        var detail = last.detail ?? FailureDetail(category: "backing_off", permanent: false)
        detail.retryAfterSeconds = remaining
        return SidecarError(
            last.code,
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
