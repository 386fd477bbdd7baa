// The request and answer types of the client's API (HealthResponse,
// RetryDecision, SidecarError, ...) come with `import SidecarClient`.
@_exported import SidecarCore
@_exported import SidecarWire
