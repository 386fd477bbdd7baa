import Foundation
import SidecarConfig
import SidecarCore
import SidecarHTTP
import SidecarImages
import SidecarLoop

/// `images.backend = "docker"`: the Docker Engine API (Docker, or Podman's
/// `podman system service`) over its Unix socket, through libcurl on the
/// loop. Presence is kept by the engine's event stream while it is
/// connected; without it, the coordinator falls back to the presence TTL.
final class DockerEngineBackend: ImageBackend {
    var reportsEvents: Bool { eventStreamUp }
    var presenceTracking: String { eventStreamUp ? "events" : "ttl: the engine's event stream is not connected" }
    var onEvent: ((ImageBackendEvent) -> Void)?

    /// The newest API version this backend speaks; older engines get theirs.
    static let newestAPIVersion = (1, 41)
    static let callTimeoutSeconds = 30.0

    let socketPath: String
    private let loop: EventLoop
    let http: HTTPClient
    private var apiPrefix: String?
    private var waitingForVersion: [(Result<String, ImageBackendFailure>) -> Void] = []
    private var eventStream: EngineEventStream?
    private var eventStreamUp = false

    init(loop: EventLoop, socketPath: String) throws {
        self.loop = loop
        self.socketPath = socketPath
        http = try HTTPClient(loop: loop, socketPath: socketPath)
    }

    var summary: String { "Docker engine API at \(socketPath)" }

    /// Starts following the engine's image events.
    func start() throws {
        do {
            eventStream = try EngineEventStream(loop: loop, backend: self)
        } catch {
            throw ImageBackendFailure(.unavailable, "cannot follow the engine's events: \(error)")
        }
        eventStream?.connect()
    }

    func close() {
        eventStream?.close()
        http.close()
    }

    // MARK: ImageBackend

    func presence(of image: ImageSpec, _ done: @escaping (Result<ImagePresence, ImageBackendFailure>) -> Void) {
        call(HTTPRequest(path: "/images/\(Self.escapePath(image.ref))/json", timeoutSeconds: Self.callTimeoutSeconds)) { result in
            switch result {
            case .success(let response) where response.status == 200:
                let id = JSONLines.parse(response.body[...])?["Id"] as? String ?? ""
                done(.success(.present(id: id)))
            case .success(let response) where response.status == 404:
                done(.success(.missing))
            case .success(let response):
                done(.failure(self.unexpected(response, doing: "inspecting \(image.ref)")))
            case .failure(let failure):
                done(.failure(failure))
            }
        }
    }

    func canBuild(_ image: ImageSpec) -> Bool { !image.context.isEmpty }
    func canPull(_ image: ImageSpec) -> Bool { true }

    func build(_ image: ImageSpec, timeoutSeconds: Double, _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void) {
        let context = image.context
        let archived: (Result<[UInt8], Error>) -> Void = { [self] archive in
            switch archive {
            case .failure(let error):
                done(.failure(ImageBackendFailure(.failed, "cannot pack the build context: \(error)")))
            case .success(let tar):
                let query = "t=\(Self.escapeQuery(image.ref))&dockerfile=\(Self.escapeQuery(image.dockerfile))&rm=1&forcerm=1"
                let request = HTTPRequest(
                    method: "POST", path: "/build?\(query)", headers: ["Content-Type: application/x-tar"], body: tar,
                    timeoutSeconds: timeoutSeconds)
                streamJob(request, what: "build of \(image.ref)", timeoutSeconds: timeoutSeconds, outcome: .built, done)
            }
        }
        do {
            try ThreadPoolWork.compute(loop: loop, { Result { try BuildContextArchive.make(directory: context) } }, then: archived)
        } catch {
            archived(.failure(error))
        }
    }

    func pull(_ image: ImageSpec, timeoutSeconds: Double, _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void) {
        let source = image.pull.isEmpty ? image.ref : image.pull
        let request = HTTPRequest(
            method: "POST", path: "/images/create?fromImage=\(Self.escapeQuery(source))", timeoutSeconds: timeoutSeconds)
        streamJob(request, what: "pull of \(source)", timeoutSeconds: timeoutSeconds, outcome: .pulled) { [self] result in
            guard case .success = result, source != image.ref else { return done(result) }
            tag(source, as: image.ref) { tagged in done(tagged.map { _ in try! result.get() }) }
        }
    }

    func remove(_ image: ImageSpec, _ done: @escaping (Result<Void, ImageBackendFailure>) -> Void) {
        call(HTTPRequest(method: "DELETE", path: "/images/\(Self.escapePath(image.ref))", timeoutSeconds: Self.callTimeoutSeconds)) {
            switch $0 {
            case .success(let response) where response.status == 200 || response.status == 404: done(.success(()))
            case .success(let response): done(.failure(self.unexpected(response, doing: "removing \(image.ref)")))
            case .failure(let failure): done(.failure(failure))
            }
        }
    }

    // MARK: The engine's API

    /// A call under the negotiated API version.
    private func call(_ request: HTTPRequest, _ done: @escaping (Result<HTTPResponse, ImageBackendFailure>) -> Void) {
        negotiatedPrefix { [self] prefix in
            switch prefix {
            case .failure(let failure): done(.failure(failure))
            case .success(let prefix):
                var request = request
                request.path = prefix + request.path
                http.send(request) { done($0.mapError(self.unreachable)) }
            }
        }
    }

    /// A build or pull: a JSON stream whose `errorDetail` lines mean failure
    /// although the HTTP status is 200.
    private func streamJob(
        _ request: HTTPRequest, what: String, timeoutSeconds: Double, outcome: ImageOutcome,
        _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void
    ) {
        negotiatedPrefix { [self] prefix in
            guard case .success(let prefix) = prefix else {
                if case .failure(let failure) = prefix { done(.failure(failure)) }
                return
            }
            var request = request
            request.path = prefix + request.path
            var lines = JSONLines()
            var log = OutputTail(limit: 64 * 1024)
            var engineError: String?
            var imageID = ""
            var pushedDigest = ""
            func take(_ objects: [[String: Any]]) {
                for object in objects {
                    let text = (object["stream"] as? String) ?? (object["status"] as? String).map { $0 + "\n" } ?? ""
                    if !text.isEmpty { Array(text.utf8).withUnsafeBytes { log.append($0) } }
                    if let detail = object["errorDetail"] as? [String: Any], let message = detail["message"] as? String {
                        engineError = message
                    } else if let message = object["error"] as? String {
                        engineError = message
                    }
                    if let aux = object["aux"] as? [String: Any], let id = aux["ID"] as? String { imageID = id }
                    // A push says "TAG: digest: sha256:... size: N" (Docker also in aux).
                    if let status = object["status"] as? String, let digest = Self.pushedDigest(in: status) { pushedDigest = digest }
                }
            }
            http.send(request, onChunk: { take(lines.feed($0)) }) { result in
                take(lines.finish())
                switch result {
                case .failure(let error) where error.kind == .timedOut:
                    done(.failure(ImageBackendFailure(
                        .timedOut, "\(what) was stopped at its time-out of \(DurationText.format(timeoutSeconds))", output: log.text)))
                case .failure(let error):
                    done(.failure(self.unreachable(error)))
                case .success(let response) where response.status != 200:
                    done(.failure(ImageBackendFailure(.failed, "\(what): the engine answered HTTP \(response.status)", output: log.text)))
                case .success:
                    if let engineError {
                        let message = engineError.trimmingCharacters(in: .whitespacesAndNewlines)
                        done(.failure(ImageBackendFailure(.failed, "the engine reported: \(message)", output: log.text)))
                    } else {
                        done(.success(ImageJobResult(outcome: outcome, id: imageID.isEmpty ? pushedDigest : imageID)))
                    }
                }
            }
        }
    }

    var canPublish: Bool { true }

    /// Tags the image as `target` and pushes it with the engine (an
    /// insecure registry is the engine's to allow: `insecure-registries`
    /// in daemon.json, registries.conf for podman); the digest is the one
    /// the push reports.
    func publish(
        _ image: ImageSpec, to target: String, timeoutSeconds: Double, _ done: @escaping (Result<String, ImageBackendFailure>) -> Void
    ) {
        tag(image.ref, as: target) { [self] tagged in
            if case .failure(let failure) = tagged { return done(.failure(failure)) }
            let (repository, tag) = Self.split(target)
            // An empty credential: the engine uses its own for the registry.
            let request = HTTPRequest(
                method: "POST", path: "/images/\(Self.escapePath(repository))/push?tag=\(Self.escapeQuery(tag))",
                headers: ["X-Registry-Auth: e30="], timeoutSeconds: timeoutSeconds)
            streamJob(request, what: "push of \(target)", timeoutSeconds: timeoutSeconds, outcome: .built) { pushed in
                switch pushed {
                case .success(let result) where result.id.hasPrefix("sha256:"): done(.success(result.id))
                case .success: done(.failure(ImageBackendFailure(.failed, "the push of \(target) reported no digest")))
                case .failure(let failure): done(.failure(failure))
                }
            }
        }
    }

    static func pushedDigest(in status: String) -> String? {
        guard let range = status.range(of: "digest: sha256:") else { return nil }
        let hex = status[range.upperBound...].prefix { $0.isHexDigit }
        return hex.count == 64 ? "sha256:" + hex : nil
    }

    private func tag(_ source: String, as ref: String, _ done: @escaping (Result<Void, ImageBackendFailure>) -> Void) {
        let (repository, tag) = Self.split(ref)
        let path = "/images/\(Self.escapePath(source))/tag?repo=\(Self.escapeQuery(repository))&tag=\(Self.escapeQuery(tag))"
        call(HTTPRequest(method: "POST", path: path, timeoutSeconds: Self.callTimeoutSeconds)) {
            switch $0 {
            case .success(let response) where response.status == 200 || response.status == 201: done(.success(()))
            case .success(let response): done(.failure(self.unexpected(response, doing: "tagging \(source) as \(ref)")))
            case .failure(let failure): done(.failure(failure))
            }
        }
    }

    /// "/v1.41", asked of the engine once (again after it restarts).
    func negotiatedPrefix(_ done: @escaping (Result<String, ImageBackendFailure>) -> Void) {
        if let apiPrefix { return done(.success(apiPrefix)) }
        waitingForVersion.append(done)
        guard waitingForVersion.count == 1 else { return }
        http.send(HTTPRequest(path: "/version", timeoutSeconds: Self.callTimeoutSeconds)) { [self] result in
            let outcome: Result<String, ImageBackendFailure>
            switch result {
            case .success(let response) where response.status == 200:
                let version = JSONLines.parse(response.body[...])?["ApiVersion"] as? String ?? ""
                let prefix = "/v" + Self.chooseVersion(engine: version)
                apiPrefix = prefix
                outcome = .success(prefix)
            case .success(let response):
                outcome = .failure(unexpected(response, doing: "asking its version"))
            case .failure(let error):
                outcome = .failure(unreachable(error))
            }
            let waiting = waitingForVersion
            waitingForVersion.removeAll()
            for waiter in waiting { waiter(outcome) }
        }
    }

    /// The engine restarted or came back: its version may have changed.
    func forgetVersion() {
        apiPrefix = nil
    }

    func eventStreamChanged(up: Bool) {
        eventStreamUp = up
        // Whatever happened while the stream was down was missed.
        if up { onEvent?(.resynchronized) }
    }

    func eventArrived(_ event: [String: Any]) {
        guard (event["Type"] as? String) == "image" else { return }
        let action = event["Action"] as? String ?? event["status"] as? String ?? ""
        guard ["untag", "delete", "remove", "prune"].contains(action) else { return }
        let attributes = (event["Actor"] as? [String: Any])?["Attributes"] as? [String: Any]
        if let name = attributes?["name"] as? String, !name.isEmpty { onEvent?(.removed(ref: name)) }
        // A delete may name only the image id: check every image again.
        if action != "untag" { onEvent?(.resynchronized) }
    }

    func eventRequest(prefix: String) -> HTTPRequest {
        let filters = Self.escapeQuery(#"{"type":["image"]}"#)
        return HTTPRequest(path: "\(prefix)/events?filters=\(filters)", timeoutSeconds: 0)
    }

    // MARK: Helpers

    func unreachable(_ error: HTTPError) -> ImageBackendFailure {
        switch error.kind {
        case .timedOut:
            return ImageBackendFailure(.unavailable, "the Docker engine at \(socketPath) did not answer in time: \(error.message)")
        default:
            return ImageBackendFailure(
                .unavailable, "cannot reach the Docker engine at \(socketPath): \(error.message)",
                remedy: "Start the engine (docker, or `podman system service`) on \(socketPath), or point images.docker_socket at it.")
        }
    }

    private func unexpected(_ response: HTTPResponse, doing what: String) -> ImageBackendFailure {
        let message = JSONLines.parse(response.body[...])?["message"] as? String
            ?? String(decoding: response.body.prefix(500), as: UTF8.self)
        return ImageBackendFailure(.failed, "the engine answered HTTP \(response.status) \(what): \(message)")
    }

    static func chooseVersion(engine: String) -> String {
        let parts = engine.split(separator: ".").compactMap { Int($0) }
        let newest = newestAPIVersion
        guard parts.count >= 2 else { return "\(newest.0).\(newest.1)" }
        let chosen = (parts[0], parts[1]) < newest ? (parts[0], parts[1]) : newest
        return "\(chosen.0).\(chosen.1)"
    }

    /// "registry:5000/agent/tools:1.4" → ("registry:5000/agent/tools", "1.4").
    static func split(_ ref: String) -> (repository: String, tag: String) {
        guard let colon = ref.lastIndex(of: ":"), !ref[colon...].contains("/") else { return (ref, "latest") }
        return (String(ref[..<colon]), String(ref[ref.index(after: colon)...]))
    }

    private static let pathAllowed = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "?#"))
    private static let queryAllowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))

    static func escapePath(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: pathAllowed) ?? text
    }

    static func escapeQuery(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: queryAllowed) ?? text
    }
}
