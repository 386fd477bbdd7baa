// swift-tools-version:6.0
import PackageDescription

// The daemon's own modules (never built for SidecarClient users) skip the
// run-time exclusivity checks in release builds: callgrind counted them at a
// tenth of the instructions of a call. Debug builds, and so the tests, keep them.
let daemonHotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Sidecar",
    products: [
        .executable(name: "sidecard", targets: ["sidecard"]),
        .executable(name: "sidecarctl", targets: ["sidecarctl"]),
        .library(name: "SidecarClient", targets: ["SidecarClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
    ],
    targets: [
        // C libraries. Each is imported by exactly one Swift module:
        // CLibUV and CSidecarShims by SidecarLoop, CProtobufC and
        // SidecarProtoC by SidecarWire, CSQLite and CSQLiteShims by SidecarStore, CCurl and
        // CCurlShims by SidecarHTTP, CCrypto (libcrypto) by SidecarDigest, CPQ (libpq)
        // by SidecarPostgres.
        .systemLibrary(name: "CLibUV", pkgConfig: "libuv", providers: [.apt(["libuv1-dev"])]),
        .systemLibrary(name: "CProtobufC", pkgConfig: "libprotobuf-c", providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "SidecarProtoC", dependencies: ["CProtobufC"]),
        // SQLite hardened for files a client names: a VFS that opens a
        // pinned folder's file as given, and opens that never block.
        .target(name: "CSQLiteShims", dependencies: ["CSQLite"]),
        .target(name: "CSidecarShims"),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "CCurlShims", dependencies: ["CCurl"]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),

        // Plain Swift: defaults, status codes, the classifier, durations.
        .target(name: "SidecarCore"),
        .target(name: "SidecarConfig", dependencies: [
            "SidecarCore",
            .product(name: "TOMLKit", package: "TOMLKit"),
        ]),
        .target(name: "SidecarWire", dependencies: ["SidecarCore", "SidecarProtoC", "CProtobufC"]),
        .target(name: "SidecarLoop", dependencies: ["CLibUV", "CSidecarShims", "SidecarCore"], swiftSettings: daemonHotPath),
        .target(name: "SidecarStore", dependencies: ["CSQLite", "CSQLiteShims", "SidecarCore"]),
        // PostgreSQL with libpq's asynchronous API on the loop (the only user of libpq).
        .target(name: "SidecarPostgres", dependencies: ["CPQ", "SidecarLoop"]),
        // Fleet mode: the retry ledger shared by every host through PostgreSQL.
        .target(name: "SidecarFleet", dependencies: [
            "SidecarCore", "SidecarConfig", "SidecarLoop", "SidecarPostgres", "SidecarImages", "SidecarDigest",
        ]),
        // SHA-256 of bytes and files (OpenSSL's libcrypto).
        .target(name: "SidecarDigest", dependencies: ["CCrypto"]),
        // An OCI image layout: verification with a per-blob cache, repair,
        // atomic import, garbage collection. Blocking file work.
        .target(name: "SidecarOCI", dependencies: ["SidecarDigest"]),
        // HTTP/1.1 over a Unix socket with libcurl's multi-socket API on the loop.
        .target(name: "SidecarHTTP", dependencies: ["CCurl", "CCurlShims", "SidecarLoop"]),
        // Plain Swift: image jobs (singleflight, base order, caps, back-off)
        // and leases over any backend, on a clock it is given.
        .target(name: "SidecarImages", dependencies: ["SidecarCore", "SidecarConfig"], swiftSettings: daemonHotPath),
        // The real image backends: commands, the Docker Engine API, the OCI
        // layout; and what only they use (event stream, store gate, build
        // context packer, JSON lines).
        .target(name: "SidecarImageBackends", dependencies: [
            "SidecarCore", "SidecarConfig", "SidecarImages", "SidecarLoop", "SidecarHTTP", "SidecarOCI", "SidecarStore", "SidecarDigest",
        ], swiftSettings: daemonHotPath),
        // Plain Swift: CheckDb's and ReportDbError's rules (shared checks,
        // reuse, the cap, streaks, verdict to action) over a check runner.
        .target(name: "SidecarDatabases", dependencies: ["SidecarCore", "SidecarConfig"]),
        .target(name: "SidecarDaemon", dependencies: [
            "SidecarCore", "SidecarConfig", "SidecarWire", "SidecarLoop", "SidecarStore", "SidecarImages", "SidecarImageBackends",
            "SidecarDatabases", "SidecarFleet", "SidecarDigest",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: daemonHotPath),
        .executableTarget(name: "sidecard", dependencies: [
            "SidecarDaemon", "SidecarConfig", "SidecarCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .target(name: "SidecarClient", dependencies: ["SidecarCore", "SidecarWire"]),
        .executableTarget(name: "sidecarctl", dependencies: [
            "SidecarClient",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // What several test targets use: real services started for a test.
        .target(name: "SidecarTestSupport", dependencies: ["SidecarCore", "SidecarImages"], path: "Tests/SidecarTestSupport"),
        .testTarget(name: "SidecarCoreTests", dependencies: ["SidecarCore"]),
        .testTarget(name: "SidecarConfigTests", dependencies: ["SidecarConfig", "SidecarCore"]),
        // The wire decoders held to each other and to the framing rule:
        // run by SidecarWireTests on mutated messages and by the fuzzer.
        .target(name: "SidecarWireAgreement", dependencies: ["SidecarWire", "SidecarCore"], path: "Tests/SidecarWireAgreement"),
        .testTarget(name: "SidecarWireTests", dependencies: ["SidecarWire", "SidecarCore", "SidecarWireAgreement"]),
        .testTarget(name: "SidecarStoreTests", dependencies: ["SidecarStore", "SidecarCore"]),
        .testTarget(name: "SidecarOCITests", dependencies: ["SidecarOCI", "SidecarDigest"]),
        .testTarget(name: "SidecarImagesTests", dependencies: ["SidecarImages", "SidecarConfig", "SidecarCore", "SidecarTestSupport"]),
        // The fleet's SQL held to the pure ledger, on a real PostgreSQL.
        .testTarget(name: "SidecarFleetTests", dependencies: [
            "SidecarFleet", "SidecarPostgres", "SidecarLoop", "SidecarCore", "SidecarConfig", "SidecarImages", "SidecarTestSupport",
        ]),
        .testTarget(name: "SidecarDatabasesTests", dependencies: ["SidecarDatabases", "SidecarConfig", "SidecarCore"]),
        // The contract every image backend keeps, run against the real ones
        // and the fake one.
        .testTarget(name: "ImageBackendContractTests", dependencies: [
            "SidecarImageBackends", "SidecarImages", "SidecarLoop", "SidecarConfig", "SidecarCore", "SidecarTestSupport",
            "SidecarStore", "SidecarOCI", "SidecarHTTP",
        ]),
        .testTarget(name: "SidecarIntegrationTests", dependencies: [
            "SidecarClient", "SidecarWire", "SidecarCore", "SidecarStore", "sidecard", "sidecarctl", "SidecarTestSupport",
        ]),
    ]
)

// The libFuzzer target, declared only when scripts/fuzz.sh builds it (into
// .build-fuzz, every module with -sanitize=fuzzer,address, which
// `swift build` and `swift test` must never get).
if Context.environment["SIDECAR_FUZZ"] == "1" {
    package.targets += [
        .systemLibrary(name: "CLibFuzzer", path: "Tests/Fuzz/CLibFuzzer"),
        .executableTarget(
            name: "sidecar-fuzz", dependencies: ["CLibFuzzer", "SidecarWireAgreement", "SidecarWire", "SidecarCore"],
            path: "Tests/Fuzz/sidecar-fuzz"),
    ]
}
