import Foundation

/// A real Prometheus (Debian's `prometheus`) on 127.0.0.1 with its data in a
/// temp folder, scraping one target every second, and its HTTP query API.
public final class PrometheusService {
    public let directory: String
    public let port: Int
    private var process: Process?

    public static var isInstalled: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool")
    }

    /// Scrapes `target` ("127.0.0.1:PORT") as job "sidecar".
    public init(scraping target: String) throws {
        directory = "/tmp/pm-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        port = RegistryService.freePort()
        let config = """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: sidecar
                static_configs:
                  - targets: ["\(target)"]
            """
        try config.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        let log = directory + "/prometheus.log"
        process = try ToolRun.start("/usr/bin/prometheus", [
            "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
            "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
        ], logPath: log)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if (try? ToolRun.run("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(port)/-/ready"]).status) == 0 { return }
            usleep(100_000)
        }
        throw PodmanError(message: "prometheus did not get ready on port \(port); see \(log)")
    }

    deinit {
        ToolRun.kill(process)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The value of an instant query whose answer is one sample; nil when
    /// there is none (yet).
    public func value(of query: String) throws -> Double? {
        let result = try ToolRun.run("/usr/bin/curl", [
            "-sf", "--get", "--data-urlencode", "query=\(query)", "http://127.0.0.1:\(port)/api/v1/query",
        ])
        guard result.status == 0,
            let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any],
            let data = object["data"] as? [String: Any], let samples = data["result"] as? [[String: Any]],
            samples.count == 1, let pair = samples[0]["value"] as? [Any], pair.count == 2, let text = pair[1] as? String
        else { return nil }
        return Double(text)
    }

    /// Polls `query` until it equals `expected` or `seconds` pass; the last
    /// value seen.
    public func wait(for query: String, toEqual expected: Double, seconds: Double = 20) throws -> Double? {
        let deadline = Date().addingTimeInterval(seconds)
        var last: Double?
        while Date() < deadline {
            last = try value(of: query)
            if last == expected { return last }
            usleep(200_000)
        }
        return last
    }
}
