// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "nzila",
    platforms: [.macOS(.v15)],
    products: [.executable(name: "nzila", targets: ["NzilaCLI"])],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // OTLP over HTTP only: the gRPC trait would build grpc-swift for nothing.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        .systemLibrary(name: "CArgon2", path: "Sources/CArgon2", pkgConfig: "libargon2", providers: [.apt(["libargon2-dev"])]),
        // Values every layer shares and Rules may import: money, ids, the clock, roles, rule errors. No HTTP.
        .target(name: "NzilaValues", swiftSettings: swiftSettings),
        .target(name: "NzilaCore", dependencies: [
            "NzilaValues", "CArgon2",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "JWTKit", package: "jwt-kit"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
        ], swiftSettings: swiftSettings),
        .target(name: "NzilaDatabase", dependencies: [
            "NzilaCore",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
        ], swiftSettings: swiftSettings),
        // Accounts, journals, entries, holds, posting rules and their store: what every domain that
        // moves money imports (domains never import each other).
        .target(name: "Ledger", dependencies: [
            "NzilaValues", "NzilaCore", "NzilaDatabase",
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ], swiftSettings: swiftSettings),
        .target(name: "Banking", dependencies: [
            "NzilaValues", "NzilaCore", "NzilaDatabase", "NzilaPartners", "Ledger",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ], swiftSettings: swiftSettings),
        // The platform's registry of partner connections (payout, funding and identity providers), their credentials by
        // reference, and the HTTP calls with timeouts and retries every provider adapter makes.
        .target(name: "NzilaPartners", dependencies: [
            "NzilaValues", "NzilaCore", "NzilaDatabase",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swiftSettings),
        // The outside providers of `nzila dev` on loopback, in their published shapes (docs/SANDBOX.md).
        .target(name: "NzilaSandbox", dependencies: [
            "NzilaValues", "NzilaCore",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swiftSettings),
        .target(name: "Compliance", dependencies: [
            "NzilaValues", "NzilaCore", "NzilaDatabase", "NzilaPartners",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ], swiftSettings: swiftSettings),
        .target(name: "Remittance", dependencies: [
            "NzilaValues", "NzilaCore", "NzilaDatabase", "NzilaPartners", "Ledger", "Compliance",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
        ], swiftSettings: swiftSettings),
        // Tontine: rotating savings circles (issue 18).
        .target(name: "Tontine", dependencies: [
            "NzilaValues", "NzilaCore", "NzilaDatabase", "Ledger", "Compliance",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: swiftSettings),
        // Lending: micro-loans (issue 19).
        .target(name: "Lending", dependencies: [
            "NzilaValues", "NzilaCore", "NzilaDatabase", "Ledger",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: swiftSettings),
        // Paper trading: instruments and exchange rules, a seeded market, orders that fill like real ones (issue 21).
        .target(name: "Trading", dependencies: [
            "NzilaValues", "NzilaCore", "NzilaDatabase", "Ledger",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Yams", package: "Yams"),
        ], swiftSettings: swiftSettings),
        .target(name: "ControlPlane", dependencies: [
            "NzilaCore", "NzilaDatabase", "StaffWeb",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "JWTKit", package: "jwt-kit"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
        ], swiftSettings: swiftSettings),
        // The staff's browser pages: the credit-union portal (data plane) and the platform console
        // (control plane), server-rendered with Mustache over the planes' own API routes (issue 23).
        .target(name: "StaffWeb", dependencies: [
            "NzilaCore", "NzilaDatabase",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ], resources: [.copy("Templates"), .copy("Static"), .copy("Strings")], swiftSettings: swiftSettings),
        .target(name: "DataPlane", dependencies: [
            "NzilaCore", "NzilaDatabase", "NzilaPartners", "Ledger", "StaffWeb", "Banking", "Compliance", "Remittance", "Tontine", "Lending", "Trading",
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "JWTKit", package: "jwt-kit"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
        ], swiftSettings: swiftSettings),
        // OTLP export: its own module so the tests build tracers exactly as the servers do.
        .target(name: "NzilaTelemetry", dependencies: [
            "NzilaCore",
            .product(name: "OTel", package: "swift-otel"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swiftSettings),
        .executableTarget(name: "NzilaCLI", dependencies: [
            "NzilaCore", "NzilaDatabase", "NzilaPartners", "NzilaSandbox", "ControlPlane", "DataPlane", "Ledger", "Banking", "Compliance", "Remittance", "Tontine", "Lending", "Trading", "NzilaTelemetry",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ], swiftSettings: swiftSettings),
        .executableTarget(name: "ScreeningBench", dependencies: ["Compliance"], path: "Benchmarks/ScreeningBench", swiftSettings: swiftSettings),
        .executableTarget(name: "ScreeningEval", dependencies: ["Compliance"], path: "Benchmarks/ScreeningEval", swiftSettings: swiftSettings),
        // What the tests share: waiting on a condition (`eventually`) instead of sleeping.
        .target(name: "NzilaTestSupport", path: "Tests/Support", swiftSettings: swiftSettings),
        .testTarget(name: "NzilaCoreTests", dependencies: ["NzilaCore", "NzilaDatabase", "NzilaTestSupport"]),
        .testTarget(name: "BankingTests", dependencies: ["Banking", "Ledger", "NzilaCore", "NzilaPartners", .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "DataPlaneTests", dependencies: ["DataPlane", "NzilaCore", "NzilaDatabase", "NzilaTestSupport"]),
        .testTarget(name: "StaffWebTests", dependencies: ["StaffWeb"]),
        .testTarget(name: "ControlPlaneTests", dependencies: ["ControlPlane", "NzilaCore"]),
        .testTarget(name: "ComplianceTests", dependencies: ["Compliance", "NzilaCore", "NzilaPartners", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "TontineTests", dependencies: ["Tontine", "NzilaValues", "Ledger"]),
        .testTarget(name: "LendingTests", dependencies: ["Lending", "NzilaValues"]),
        .testTarget(name: "TradingTests", dependencies: ["Trading", "NzilaValues", "Ledger"]),
        .testTarget(name: "RemittanceTests", dependencies: ["Remittance", "Tontine", "Lending", "Trading", "Ledger", "NzilaCore", "NzilaDatabase", "NzilaPartners"]),
        .testTarget(name: "EndToEndTests", dependencies: [
            "NzilaCore", "NzilaDatabase", "NzilaPartners", "NzilaSandbox", "ControlPlane", "StaffWeb", "DataPlane", "Ledger", "Banking", "Compliance", "Remittance", "Tontine", "Lending", "Trading", "NzilaTelemetry", "NzilaTestSupport",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "JWTKit", package: "jwt-kit"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "OTel", package: "swift-otel"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
        ]),
    ]
)
