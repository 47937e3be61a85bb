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
        .library(name: "SwitchboardCore", targets: ["SwitchboardCore"]),
        .library(name: "SwitchboardTesting", targets: ["SwitchboardTesting"]),
        // Every agent backend is its own dynamic library, loaded with dlopen.
        .library(name: "ScriptedAdapter", type: .dynamic, targets: ["ScriptedAdapter"]),
        .library(name: "CodexAdapter", type: .dynamic, targets: ["CodexAdapter"]),
        .library(name: "ClaudeAdapter", type: .dynamic, targets: ["ClaudeAdapter"]),
        // Test support for agent adapters that run real CLIs: a mock Anthropic Messages API,
        // a fake `docker`, and where to find the real `claude`.
        .library(name: "SwitchboardAgentTesting", targets: ["SwitchboardAgentTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // Child processes for the CLI-driving adapters; without the Foundation trait, so
        // plugins do not link Foundation.
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2", traits: []),
        // The HTTP server of the mock model API in the test support (and, later, the daemon).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
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
        // Registry, loader, config (and, later, the session manager and store).
        .target(
            name: "SwitchboardCore",
            dependencies: [
                "CSwitchboardABI",
                "SwitchboardAdapterAPI",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // Shipped test support: fakes and helpers for people testing with Switchboard.
        .target(
            name: "SwitchboardTesting",
            dependencies: ["SwitchboardAdapterAPI", "SwitchboardCore"],
            swiftSettings: swiftSettings
        ),
        // Test support for adapters that drive a real agent CLI: `MockAnthropicAPI` (a
        // scripted Messages API on loopback), `FakeDocker`, `ClaudeCLI` (finds the binary).
        .target(
            name: "SwitchboardAgentTesting",
            dependencies: [
                "SwitchboardAdapterAPI",
                "SwitchboardTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "SwitchboardCLI",
            dependencies: [
                "SwitchboardCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // What the benchmarks need from C (the allocator's own byte count).
        .target(name: "CBenchmarkSupport"),
        // Writes to a session store from a separate process: the store's multi-process and
        // kill-mid-write tests drive it.
        .executableTarget(
            name: "SwitchboardStoreStress",
            dependencies: ["SwitchboardCore"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "SwitchboardBenchmarks",
            dependencies: [
                "SwitchboardCore", "SwitchboardPluginSDK", "CSwitchboardABI", "CBenchmarkSupport",
                "SwitchboardTesting", "SwitchboardAgentTesting",
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
            dependencies: ["SwitchboardPluginSDK", "SwitchboardAdapterAPI"],
            path: "Plugins/CodexAdapter",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ClaudeAdapter",
            dependencies: [
                "SwitchboardPluginSDK",
                "SwitchboardAdapterAPI",
                .product(name: "Subprocess", package: "swift-subprocess"),
            ],
            path: "Plugins/ClaudeAdapter",
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "SwitchboardAdapterAPITests",
            dependencies: ["SwitchboardAdapterAPI"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchboardCoreTests",
            dependencies: ["SwitchboardCore", "SwitchboardTesting", "SwitchboardAdapterAPI"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        // The Claude plugin: its pure logic directly, and end to end through dlopen against
        // the real `claude` CLI and the mock model API.
        .testTarget(
            name: "ClaudeAdapterTests",
            dependencies: [
                "ClaudeAdapter", "SwitchboardAdapterAPI", "SwitchboardCore",
                "SwitchboardTesting", "SwitchboardAgentTesting",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchboardCLITests",
            dependencies: ["SwitchboardTesting"],
            swiftSettings: swiftSettings
        ),
    ]
)
