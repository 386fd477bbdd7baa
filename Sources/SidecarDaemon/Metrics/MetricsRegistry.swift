import SidecarCore

/// Counters, gauges and histograms of the daemon, rendered in the
/// Prometheus text format (version 0.0.4). Loop thread only.
final class MetricsRegistry {
    static let firstBucketBound = 0.0001
    /// Upper bounds of the call latency histogram, in seconds.
    static let latencyBuckets: [Double] = [
        firstBucketBound, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    ]

    /// Upper bounds of the image job duration histogram, in seconds.
    static let jobBuckets: [Double] = [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600]

    private struct Histogram {
        var buckets = [UInt64](repeating: 0, count: MetricsRegistry.latencyBuckets.count)
        var count: UInt64 = 0
        var sum = 0.0

        mutating func observe(_ seconds: Double) {
            count += 1
            sum += seconds
            // Most calls land in the first bucket; the static table is read
            // only for the slower ones.
            if seconds <= MetricsRegistry.firstBucketBound {
                buckets[0] += 1
                return
            }
            let bounds = MetricsRegistry.latencyBuckets
            var index = 1
            while index < bounds.count, seconds > bounds[index] { index += 1 }
            if index < bounds.count { buckets[index] += 1 }
        }
    }

    /// Per method: answers by status code, and latency. Methods get a slot
    /// once, when the routing table is installed, so a call costs two
    /// array updates and no hashing.
    private var methodNames: [String] = []
    private var slotsByName: [String: Int] = [:]
    /// Row `slot`, column `code`: `slot * codeCount + code`.
    private var callsByCode: [UInt64] = []
    private static let codeCount = StatusCode.allCases.count
    private var latency: [Histogram] = []
    /// Per counter name, per label value.
    private var counters: [String: [String: UInt64]] = [:]
    /// Image job durations by kind ("build", "pull"): bucket counts by
    /// `jobBuckets`, count and sum.
    private var jobDurations: [String: (buckets: [UInt64], count: UInt64, sum: Double)] = [:]

    func slot(for method: String) -> Int {
        if let slot = slotsByName[method] { return slot }
        let slot = methodNames.count
        methodNames.append(method)
        slotsByName[method] = slot
        callsByCode.append(contentsOf: repeatElement(0, count: Self.codeCount))
        latency.append(Histogram())
        return slot
    }

    func recordCall(slot: Int, code: StatusCode, seconds: Double) {
        callsByCode[slot * Self.codeCount + Int(code.rawValue)] += 1
        latency[slot].observe(seconds)
    }

    /// Counts one, e.g. `increment(.protocolErrors, label: "oversized")`.
    func increment(_ counter: Counter, label: String = "", by count: UInt64 = 1) {
        counters[counter.name, default: [:]][label, default: 0] += count
    }

    /// One finished or failed image job.
    func observeImageJob(kind: String, seconds: Double) {
        var entry = jobDurations[kind] ?? ([UInt64](repeating: 0, count: Self.jobBuckets.count), 0, 0)
        for (index, bound) in Self.jobBuckets.enumerated() where seconds <= bound { entry.buckets[index] += 1 }
        entry.count += 1
        entry.sum += seconds
        jobDurations[kind] = entry
    }

    struct Gauges {
        var connections: Int
        var inflightCalls: Int
        var watchers: Int
        var loopLagSeconds: Double
        var loopLagMaxSeconds: Double
        var loopBusyMaxSeconds: Double = 0
        var uptimeSeconds: Double
        var version: String
        /// The last scrub's end (Unix seconds) and report, once one ran.
        var lastScrub: (endUnixSeconds: Double, report: ScrubReport)?
        /// Image jobs by kind ("build", "pull").
        var imageJobsRunning: [String: Int] = [:]
        var imageJobsQueued: [String: Int] = [:]
        var leasesHeld = 0
        /// Retry keys by state, every state present (zero included).
        var retryKeys: [String: Int] = [:]
        /// Fleet mode only: 1 while the fleet's PostgreSQL is usable.
        var fleetConnected: Double?
    }

    func render(_ gauges: Gauges) -> String {
        var out = ""
        func line(_ text: String) { out += text + "\n" }
        line("# HELP sidecar_build_info The running sidecard's version.")
        line("# TYPE sidecar_build_info gauge")
        line("sidecar_build_info{version=\"\(escape(gauges.version))\"} 1")
        gauge(&out, "sidecar_uptime_seconds", "Seconds since the daemon started.", gauges.uptimeSeconds)
        gauge(&out, "sidecar_connections", "Connections open now.", Double(gauges.connections))
        gauge(&out, "sidecar_inflight_calls", "Calls in flight now.", Double(gauges.inflightCalls))
        gauge(&out, "sidecar_watchers", "Watch streams open now.", Double(gauges.watchers))
        gauge(&out, "sidecar_loop_lag_seconds", "How late the loop woke for its last tick.", gauges.loopLagSeconds)
        gauge(&out, "sidecar_loop_lag_max_seconds", "The largest loop lag over the last minute.", gauges.loopLagMaxSeconds)
        gauge(&out, "sidecar_loop_busy_max_seconds",
              "The most CPU time the loop thread spent between two waits for events (what an event may wait behind), over the last one to two minutes.",
              gauges.loopBusyMaxSeconds)
        if let (end, report) = gauges.lastScrub {
            gauge(&out, "sidecar_image_scrub_last_end_timestamp_seconds", "When the last scrub of the images' blobs ended.", end)
            gauge(&out, "sidecar_image_scrub_last_bytes", "Bytes the last scrub hashed.", Double(report.bytes))
            gauge(&out, "sidecar_image_scrub_last_duration_seconds", "How long the last scrub took.", report.seconds)
            gauge(&out, "sidecar_image_scrub_last_damaged_images", "Images the last scrub found damaged.", Double(report.damaged.count))
        }

        labeledGauge(&out, "sidecar_image_jobs_running", "Image jobs running now, by kind.", "kind", gauges.imageJobsRunning)
        labeledGauge(&out, "sidecar_image_jobs_queued", "Image jobs waiting for a build or pull slot, by kind.", "kind", gauges.imageJobsQueued)
        gauge(&out, "sidecar_leases_held", "Leases held now.", Double(gauges.leasesHeld))
        labeledGauge(&out, "sidecar_retry_keys", "Keys the retry ledger tracks, by state.", "state", gauges.retryKeys)
        if let connected = gauges.fleetConnected {
            gauge(&out, "sidecar_fleet_connected", "1 while the fleet's PostgreSQL is usable, 0 while this host is degraded.", connected)
        }

        let bySlot = methodNames.indices.sorted { methodNames[$0] < methodNames[$1] }
        line("# HELP sidecar_calls_total Calls answered, by method and status code.")
        line("# TYPE sidecar_calls_total counter")
        for slot in bySlot {
            for code in StatusCode.allCases {
                let count = callsByCode[slot * Self.codeCount + Int(code.rawValue)]
                guard count > 0 else { continue }
                line("sidecar_calls_total{method=\"\(escape(methodNames[slot]))\",code=\"\(code.name)\"} \(count)")
            }
        }
        line("# HELP sidecar_call_duration_seconds Time from a call's arrival to its answer, by method.")
        line("# TYPE sidecar_call_duration_seconds histogram")
        for slot in bySlot where latency[slot].count > 0 {
            let histogram = latency[slot]
            var cumulative: UInt64 = 0
            let counts = histogram.buckets.map { count in
                cumulative += count
                return cumulative
            }
            series(&out, "sidecar_call_duration_seconds", label: "method=\"\(escape(methodNames[slot]))\"", bounds: Self.latencyBuckets,
                   cumulative: counts, count: histogram.count, sum: histogram.sum)
        }
        line("# HELP sidecar_image_job_duration_seconds How long image jobs took, finished or failed, by kind.")
        line("# TYPE sidecar_image_job_duration_seconds histogram")
        for (kind, entry) in jobDurations.sorted(by: { $0.key < $1.key }) {
            series(&out, "sidecar_image_job_duration_seconds", label: "kind=\"\(escape(kind))\"", bounds: Self.jobBuckets,
                   cumulative: entry.buckets, count: entry.count, sum: entry.sum)
        }
        for counter in Counter.all {
            let name = counter.name
            line("# HELP \(name) \(counter.help)")
            line("# TYPE \(name) counter")
            let values = counters[name] ?? [:]
            if counter.labelName.isEmpty {
                line("\(name) \(values[""] ?? 0)")
            } else {
                for (label, value) in values.sorted(by: { $0.key < $1.key }) {
                    line("\(name){\(counter.labelName)=\"\(escape(label))\"} \(value)")
                }
            }
        }
        return out
    }

    /// One histogram's series: `cumulative[i]` observations at most `bounds[i]`.
    private func series(
        _ out: inout String, _ name: String, label: String, bounds: [Double], cumulative: [UInt64], count: UInt64, sum: Double
    ) {
        for (index, bound) in bounds.enumerated() { out += "\(name)_bucket{\(label),le=\"\(bound)\"} \(cumulative[index])\n" }
        out += "\(name)_bucket{\(label),le=\"+Inf\"} \(count)\n"
        out += "\(name)_sum{\(label)} \(sum)\n"
        out += "\(name)_count{\(label)} \(count)\n"
    }

    private func labeledGauge(_ out: inout String, _ name: String, _ help: String, _ label: String, _ values: [String: Int]) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
        for (value, count) in values.sorted(by: { $0.key < $1.key }) { out += "\(name){\(label)=\"\(escape(value))\"} \(count)\n" }
    }

    private func gauge(_ out: inout String, _ name: String, _ help: String, _ value: Double) {
        let text = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name) \(text)\n"
    }

    private func escape(_ label: String) -> String {
        var escaped = ""
        for character in label {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
