/// Counters, gauges and histograms of the daemon, rendered in the
/// Prometheus text format (version 0.0.4). Loop thread only.
final class MetricsRegistry {
    /// Upper bounds of the call latency histogram, in seconds.
    static let latencyBuckets: [Double] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    ]

    private struct Histogram {
        var buckets = [UInt64](repeating: 0, count: MetricsRegistry.latencyBuckets.count)
        var count: UInt64 = 0
        var sum = 0.0

        mutating func observe(_ seconds: Double) {
            count += 1
            sum += seconds
            if let index = MetricsRegistry.latencyBuckets.firstIndex(where: { seconds <= $0 }) {
                buckets[index] += 1
            }
        }
    }

    private struct CallKey: Hashable {
        let method: String
        let code: String
    }

    private var calls: [CallKey: UInt64] = [:]
    private var latency: [String: Histogram] = [:]
    private var counters: [String: [String: UInt64]] = [:]

    func recordCall(method: String, code: String, seconds: Double) {
        calls[CallKey(method: method, code: code), default: 0] += 1
        latency[method, default: Histogram()].observe(seconds)
    }

    /// A labelled counter, e.g. `increment("sidecar_protocol_errors_total", label: "oversized")`.
    func increment(_ name: String, label: String = "") {
        counters[name, default: [:]][label, default: 0] += 1
    }

    func count(_ name: String, label: String = "") -> UInt64 {
        counters[name]?[label] ?? 0
    }

    struct Gauges {
        var connections: Int
        var inflightCalls: Int
        var watchers: Int
        var loopLagSeconds: Double
        var loopLagMaxSeconds: Double
        var uptimeSeconds: Double
        var version: String
    }

    /// Label names of the plain counters, for rendering.
    private static let counterLabels: [String: String] = [
        "sidecar_connections_total": "",
        "sidecar_connections_rejected_total": "reason",
        "sidecar_protocol_errors_total": "kind",
        "sidecar_config_reloads_total": "result",
    ]

    private static let help: [String: String] = [
        "sidecar_connections_total": "Connections accepted since start.",
        "sidecar_connections_rejected_total": "Connections refused or closed by the daemon, by reason.",
        "sidecar_protocol_errors_total": "Frames that broke the protocol, by kind.",
        "sidecar_config_reloads_total": "Config reloads, by result.",
    ]

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

        line("# HELP sidecar_calls_total Calls answered, by method and status code.")
        line("# TYPE sidecar_calls_total counter")
        for (key, value) in calls.sorted(by: { ($0.key.method, $0.key.code) < ($1.key.method, $1.key.code) }) {
            line("sidecar_calls_total{method=\"\(escape(key.method))\",code=\"\(key.code)\"} \(value)")
        }
        line("# HELP sidecar_call_duration_seconds Time from a call's arrival to its answer, by method.")
        line("# TYPE sidecar_call_duration_seconds histogram")
        for (method, histogram) in latency.sorted(by: { $0.key < $1.key }) {
            var cumulative: UInt64 = 0
            for (index, bound) in Self.latencyBuckets.enumerated() {
                cumulative += histogram.buckets[index]
                line("sidecar_call_duration_seconds_bucket{method=\"\(escape(method))\",le=\"\(bound)\"} \(cumulative)")
            }
            line("sidecar_call_duration_seconds_bucket{method=\"\(escape(method))\",le=\"+Inf\"} \(histogram.count)")
            line("sidecar_call_duration_seconds_sum{method=\"\(escape(method))\"} \(histogram.sum)")
            line("sidecar_call_duration_seconds_count{method=\"\(escape(method))\"} \(histogram.count)")
        }
        for name in Self.counterLabels.keys.sorted() {
            line("# HELP \(name) \(Self.help[name] ?? "")")
            line("# TYPE \(name) counter")
            let labelName = Self.counterLabels[name] ?? ""
            let values = counters[name] ?? [:]
            if labelName.isEmpty {
                line("\(name) \(values[""] ?? 0)")
            } else {
                for (label, value) in values.sorted(by: { $0.key < $1.key }) {
                    line("\(name){\(labelName)=\"\(escape(label))\"} \(value)")
                }
            }
        }
        return out
    }

    private func gauge(_ out: inout String, _ name: String, _ help: String, _ value: Double) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name) \(value)\n"
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
