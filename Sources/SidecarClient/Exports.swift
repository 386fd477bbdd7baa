// `import SidecarClient` brings the request and answer types of the client's
// API (HealthResponse, RetryDecision, SidecarError, ...). Their coding and the
// frames are `package`: users see the messages and nothing of how they
// travel.
@_exported import SidecarCore
@_exported import SidecarWire
