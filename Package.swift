// swift-tools-version:6.2
import PackageDescription

/// Settings every target shares, applied in one loop at the bottom (house style §3.2).
let sharedSwiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "hanzo-kbs",
    products: [
        .executable(name: "kbs", targets: ["kbs"]),
        .library(name: "KBSPolicy", targets: ["KBSPolicy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(name: "KBSClaims"),
        .target(name: "KBSPolicy", dependencies: ["KBSClaims"]),
        .target(name: "KBSPolicyTesting", dependencies: ["KBSPolicy", "KBSClaims"]),
        .executableTarget(
            name: "kbs",
            dependencies: [
                "KBSPolicy", "KBSPolicyTesting", "KBSClaims",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "KBSClaimsTests", dependencies: ["KBSClaims"]),
        .testTarget(name: "KBSPolicyTests", dependencies: ["KBSPolicy", "KBSClaims", "KBSPolicyTesting"]),
        .testTarget(name: "KBSPolicyTestingTests", dependencies: ["KBSPolicyTesting", "KBSPolicy", "KBSClaims"]),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets {
    target.swiftSettings = (target.swiftSettings ?? []) + sharedSwiftSettings
}
