// swift-tools-version:6.1
import PackageDescription

// An agent plugin built outside the Switchboard repository: its own package, depending only
// on Switchboard's plugin SDK and adapter API. `swift build` produces libEchoAgent.so, which
// an already-built `switchboard` loads from its config — no rebuild of the host.
let package = Package(
    name: "EchoAgent",
    products: [
        // A plugin is a dynamic library product: SwiftPM names the file lib<Product>.so.
        .library(name: "EchoAgent", type: .dynamic, targets: ["EchoAgent"]),
    ],
    dependencies: [
        // This repository, by relative path. `name:` fixes the package's identity; without
        // it the identity is the directory's name, which depends on where it was cloned.
        // Outside this repository use `.package(url: "<switchboard git URL>", from: "…")`.
        .package(name: "switchboard", path: "../.."),
    ],
    targets: [
        .target(
            name: "EchoAgent",
            dependencies: [
                .product(name: "SwitchboardPluginSDK", package: "switchboard"),
                .product(name: "SwitchboardAdapterAPI", package: "switchboard"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
            ]
        ),
        // `swift test --package-path Examples/EchoAgent` runs Switchboard's shipped conformance
        // suite on the built plugin. Only the tests use SwitchboardTesting; the plugin itself
        // links nothing but the SDK and the adapter API.
        .testTarget(
            name: "EchoAgentTests",
            dependencies: [.product(name: "SwitchboardTesting", package: "switchboard")]
        ),
    ]
)
