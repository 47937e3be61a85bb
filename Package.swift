// swift-tools-version:6.1
import PackageDescription

/// Settings every Swift target shares: Swift 6 language mode (from the tools version),
/// strict concurrency, and the upcoming features swift-log turns on.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "switchboard",
    products: [
        .executable(name: "switchboard", targets: ["SwitchboardCLI"]),
        .executable(name: "switchboard-benchmarks", targets: ["SwitchboardBenchmarks"]),
        .executable(name: "switchboard-store-stress", targets: ["SwitchboardStoreStress"]),
        .library(name: "CSwitchboardABI", targets: ["CSwitchboardABI"]),
        .library(name: "SwitchboardAdapterAPI", targets: ["SwitchboardAdapterAPI"]),
        .library(name: "SwitchboardPluginSDK", targets: ["SwitchboardPluginSDK"]),
        // Opt-in for plugins that run child processes: the process owner, line reading,
        // the guardian that kills agents when the host dies.
        .library(name: "SwitchboardProcess", targets: ["SwitchboardProcess"]),
        .library(name: "SwitchboardCore", targets: ["SwitchboardCore"]),
        // The embedded SQLite session store (GRDB); the core itself needs no SQLite.
        .library(name: "SwitchboardSQLite", targets: ["SwitchboardSQLite"]),
        // The PostgreSQL session store (postgres-nio), for several daemons on one database.
        .library(name: "SwitchboardPostgres", targets: ["SwitchboardPostgres"]),
        .library(name: "SwitchboardServer", targets: ["SwitchboardServer"]),
        .library(name: "SwitchboardTesting", targets: ["SwitchboardTesting"]),
        // Every agent backend is its own dynamic library, loaded with dlopen.
        .library(name: "ScriptedAdapter", type: .dynamic, targets: ["ScriptedAdapter"]),
        .library(name: "CodexAdapter", type: .dynamic, targets: ["CodexPlugin"]),
        .library(name: "ClaudeAdapter", type: .dynamic, targets: ["ClaudeAdapter"]),
        // Test support for agent adapters that run real CLIs: a mock Anthropic Messages API,
        // a fake `docker`, and where to find the real `claude`.
        .library(name: "SwitchboardAgentTesting", targets: ["SwitchboardAgentTesting"]),
        .library(name: "OpenCodeAdapter", type: .dynamic, targets: ["OpenCodePlugin"]),
        // One plugin for every Agent Client Protocol agent: the config names each type.
        .library(name: "ACPAdapter", type: .dynamic, targets: ["ACPPlugin"]),
        // A fake `opencode serve` for the OpenCode adapter's tests.
        .executable(name: "fake-opencode", targets: ["FakeOpenCode"]),
        // Starts an agent process and waits to be killed: the process owner's host-death test.
        .executable(name: "switchboard-process-probe", targets: ["ProcessProbe"]),
        // Runs one plugin in a process of its own for agent types with `isolation: "process"`.
        .executable(name: "switchboard-plugin-host", targets: ["SwitchboardPluginHost"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // No default traits: they would pull in swift-configuration, which nothing here uses.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // Child processes for the CLI-driving adapters; without the Foundation trait, so
        // plugins do not link Foundation.
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2", traits: []),
        // Property-based tests of the frame and route handling.
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        // The PostgreSQL store's client and connection pool.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // The C boundary: the one header the host and every plugin include.
        .target(name: "CSwitchboardABI"),
        // What adapter authors and the core share: the protocol, message types, wire codec.
        .target(name: "SwitchboardAdapterAPI", swiftSettings: swiftSettings),
        // Bridges a Swift `AgentAdapter` to the C ABI.
        .target(
            name: "SwitchboardPluginSDK",
            dependencies: ["CSwitchboardABI", "SwitchboardAdapterAPI"],
            swiftSettings: swiftSettings
        ),
        // Child processes for plugins, on swift-subprocess.
        .target(
            name: "SwitchboardProcess",
            dependencies: [
                "SwitchboardAdapterAPI",
                .product(name: "Subprocess", package: "swift-subprocess"),
            ],
            swiftSettings: swiftSettings
        ),
        // Registry, loader, plugin host, config, the session manager and the store protocol
        // with its in-memory store. No SQLite: plugin authors' tests build without its headers.
        .target(
            name: "SwitchboardCore",
            dependencies: [
                "CSwitchboardABI",
                "SwitchboardAdapterAPI",
                // The guardian and process records for plugin helper processes.
                "SwitchboardProcess",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The plugin helper: dlopens one plugin and serves its ABI to the daemon over a socket.
        .executableTarget(
            name: "SwitchboardPluginHost",
            dependencies: ["CSwitchboardABI", "SwitchboardAdapterAPI", "SwitchboardCore"],
            swiftSettings: swiftSettings
        ),
        // The SQLite session store.
        .target(
            name: "SwitchboardSQLite",
            dependencies: [
                "SwitchboardCore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // The PostgreSQL session store.
        .target(
            name: "SwitchboardPostgres",
            dependencies: [
                "SwitchboardCore",
                "SwitchboardAdapterAPI",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The daemon: HTTP API and WebSocket live chat over the session manager.
        .target(
            name: "SwitchboardServer",
            dependencies: [
                "SwitchboardCore",
                "SwitchboardAdapterAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            // The web page's source files; they are built in through WebPageFiles.swift
            // (Scripts/embed-web-page writes it).
            exclude: ["WebPage/Files"],
            swiftSettings: swiftSettings
        ),
        // Shipped test support: fakes and helpers for people testing with Switchboard.
        .target(
            name: "SwitchboardTesting",
            dependencies: ["SwitchboardAdapterAPI", "SwitchboardCore", "SwitchboardProcess"],
            swiftSettings: swiftSettings
        ),
        // Test support for adapters that drive a real agent CLI: `MockAnthropicAPI` and
        // `MockResponsesAPI` (scripted model APIs on loopback), `FakeDocker`, `ClaudeCLI` and
        // `CodexCLI` (find the binaries).
        .target(
            name: "SwitchboardAgentTesting",
            dependencies: [
                "SwitchboardAdapterAPI",
                "SwitchboardTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "SwitchboardCLI",
            dependencies: [
                "SwitchboardCore",
                "SwitchboardProcess",
                "SwitchboardSQLite",
                "SwitchboardPostgres",
                "SwitchboardServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // What the benchmarks need from C (the allocator's own byte count).
        .target(name: "CBenchmarkSupport"),
        // Writes to a session store from a separate process: the store's multi-process and
        // kill-mid-write tests drive it.
        .executableTarget(
            name: "SwitchboardStoreStress",
            dependencies: ["SwitchboardCore", "SwitchboardSQLite"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "SwitchboardBenchmarks",
            dependencies: [
                "SwitchboardCore", "SwitchboardSQLite", "SwitchboardPostgres", "SwitchboardPluginSDK", "CSwitchboardABI", "CBenchmarkSupport", "SwitchboardServer",
                "SwitchboardTesting", "SwitchboardAgentTesting", "SwitchboardProcess",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // Plugins: each a separately built dynamic library.
        .target(
            name: "ScriptedAdapter",
            dependencies: ["SwitchboardPluginSDK", "SwitchboardAdapterAPI"],
            path: "Plugins/ScriptedAdapter",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CodexAdapter",
            dependencies: ["SwitchboardPluginSDK", "SwitchboardAdapterAPI", "SwitchboardProcess"],
            path: "Plugins/CodexAdapter",
            swiftSettings: swiftSettings
        ),
        // The Codex plugin's entry symbol (the .so's only export); the adapter is above.
        .target(
            name: "CodexPlugin",
            dependencies: ["CodexAdapter", "SwitchboardPluginSDK"],
            path: "Plugins/CodexPlugin",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ClaudeAdapter",
            dependencies: [
                "SwitchboardPluginSDK",
                "SwitchboardAdapterAPI",
                "SwitchboardProcess",
            ],
            path: "Plugins/ClaudeAdapter",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OpenCodeAdapter",
            dependencies: ["SwitchboardPluginSDK", "SwitchboardAdapterAPI", "SwitchboardProcess"],
            path: "Plugins/OpenCodeAdapter",
            swiftSettings: swiftSettings
        ),
        // The OpenCode plugin's entry symbol (the .so's only export); the adapter is above.
        .target(
            name: "OpenCodePlugin",
            dependencies: ["OpenCodeAdapter", "SwitchboardPluginSDK"],
            path: "Plugins/OpenCodePlugin",
            swiftSettings: swiftSettings
        ),
        // The ACP bridge: any Agent Client Protocol agent (JSON-RPC over stdio) as a backend.
        .target(
            name: "ACPAdapter",
            dependencies: ["SwitchboardPluginSDK", "SwitchboardAdapterAPI", "SwitchboardProcess"],
            path: "Plugins/ACPAdapter",
            swiftSettings: swiftSettings
        ),
        // The ACP plugin's entry symbol (the .so's only export); the adapter is above.
        .target(
            name: "ACPPlugin",
            dependencies: ["ACPAdapter", "SwitchboardPluginSDK"],
            path: "Plugins/ACPPlugin",
            swiftSettings: swiftSettings
        ),
        // The OpenCode server's routes and event shapes, faked for the adapter's tests.
        .executableTarget(
            name: "FakeOpenCode",
            dependencies: [
                "SwitchboardAdapterAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "ProcessProbe",
            dependencies: ["SwitchboardProcess", "SwitchboardAdapterAPI"],
            swiftSettings: swiftSettings
        ),
        // The process owner: lines, stderr tail, stop sequence, group kill, host death.
        .testTarget(
            name: "SwitchboardProcessTests",
            dependencies: ["SwitchboardProcess", "SwitchboardTesting", "SwitchboardAdapterAPI"],
            swiftSettings: swiftSettings
        ),
        // The plugin SDK's toolbox: the turn runner.
        .testTarget(
            name: "SwitchboardPluginSDKTests",
            dependencies: ["SwitchboardPluginSDK", "SwitchboardAdapterAPI", "SwitchboardTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchboardAdapterAPITests",
            dependencies: ["SwitchboardAdapterAPI"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchboardCoreTests",
            dependencies: ["SwitchboardCore", "SwitchboardSQLite", "SwitchboardPostgres", "SwitchboardTesting", "SwitchboardAdapterAPI", "CSwitchboardABI"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        // The conformance suite's own tests: an in-process adapter that passes it, and
        // broken ones that each fail the check they break.
        .testTarget(
            name: "SwitchboardTestingTests",
            dependencies: ["SwitchboardTesting", "SwitchboardAdapterAPI"],
            swiftSettings: swiftSettings
        ),
        // Crash-contained plugins: helpers, faults in both isolation modes, the daemon's
        // SIGKILL, conformance in process mode.
        .testTarget(
            name: "SwitchboardIsolationTests",
            dependencies: [
                "SwitchboardCore", "SwitchboardProcess", "SwitchboardTesting", "SwitchboardAgentTesting", "SwitchboardAdapterAPI",
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchboardServerTests",
            dependencies: [
                "SwitchboardServer",
                "SwitchboardTesting",
                "SwitchboardAgentTesting",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Claude plugin: its pure logic directly, and end to end through dlopen against
        // the real `claude` CLI and the mock model API.
        .testTarget(
            name: "ClaudeAdapterTests",
            dependencies: [
                "ClaudeAdapter", "SwitchboardAdapterAPI", "SwitchboardCore", "SwitchboardProcess",
                "SwitchboardTesting", "SwitchboardAgentTesting",
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The OpenCode plugin: its HTTP/SSE reader and event mapper directly, and end to end
        // through dlopen against the fake `opencode serve`.
        .testTarget(
            name: "OpenCodeAdapterTests",
            dependencies: ["OpenCodeAdapter", "SwitchboardAdapterAPI", "SwitchboardCore", "SwitchboardTesting"],
            swiftSettings: swiftSettings
        ),
        // The Codex plugin: its mapper, settings and request answers directly, and end to end
        // through dlopen against the real `codex app-server` and the mock Responses API.
        .testTarget(
            name: "CodexAdapterTests",
            dependencies: [
                "CodexAdapter", "SwitchboardAdapterAPI", "SwitchboardCore", "SwitchboardProcess",
                "SwitchboardTesting", "SwitchboardAgentTesting",
            ],
            swiftSettings: swiftSettings
        ),
        // The ACP plugin: its mapper, permissions, file access and terminals directly, and end
        // to end through dlopen against the real fast-agent and the mock Chat Completions API.
        .testTarget(
            name: "ACPAdapterTests",
            dependencies: [
                "ACPAdapter", "SwitchboardAdapterAPI", "SwitchboardCore", "SwitchboardProcess",
                "SwitchboardTesting", "SwitchboardAgentTesting",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchboardCLITests",
            dependencies: [
                "SwitchboardPluginSDK", "SwitchboardTesting", "SwitchboardAgentTesting", "SwitchboardCore", "SwitchboardAdapterAPI",
                // `store migrate`: an SQLite store is filled and the PostgreSQL copy checked.
                "SwitchboardSQLite", "SwitchboardPostgres",
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
