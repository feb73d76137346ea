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
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // Collateral fetching (AMD KDS, Intel PCS): HTTPS with a configurable extra CA, which URLSession on Linux lacks.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // The PostgreSQL store (KBSStorePostgres) for several replicas on one database; nothing else links it.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .target(name: "KBSClaims"),
        .target(name: "KBSPolicy", dependencies: ["KBSClaims"]),
        // Zero-knowledge proofs: Groth16 over BN254 in snarkjs's formats, on fixed-width limbs.
        .target(name: "KBSZK", dependencies: ["KBSClaims"]),
        .target(name: "KBSPolicyTesting", dependencies: ["KBSPolicy", "KBSClaims"]),
        .systemLibrary(name: "CSecp256k1", pkgConfig: "libsecp256k1", providers: [.apt(["libsecp256k1-dev"])]),
        .systemLibrary(name: "CXMLSec", pkgConfig: "xmlsec1-openssl", providers: [.apt(["libxmlsec1-dev", "libxml2-dev"])]),
        // JWS, JWK and JWE for the identity verifiers, the broker's TEE key and its attestation tokens.
        .target(
            name: "KBSJOSE",
            dependencies: [
                "KBSClaims", "CSecp256k1",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // libxml2 and xmlsec set up once, under one lock, with one parsed tree: SAML and the NVIDIA RIM share them.
        .target(name: "KBSXMLSecurity", dependencies: ["CXMLSec"]),
        .target(
            name: "KBSIdentity",
            dependencies: [
                "KBSClaims", "KBSJOSE", "KBSXMLSecurity",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .target(
            name: "KBSEvidence",
            dependencies: [
                "KBSClaims", "COpenSSL", "KBSXMLSecurity",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // PKCS#11 types and constants only: the module (SoftHSM2, an HSM's library) is dlopened at run time.
        .systemLibrary(name: "CPKCS11", pkgConfig: "p11-kit-1", providers: [.apt(["libp11-kit-dev"])]),
        .target(
            name: "KBSKeys",
            dependencies: [
                "KBSClaims", "CPKCS11",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "KBSStore",
            dependencies: [
                "KBSBroker", "KBSKeys", "KBSIdentity", "KBSClaims", "KBSJOSE", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The broker's ports on PostgreSQL, beside KBSStore (whose audit chain encoding and errors it shares), for
        // replicas that share one database.
        .target(
            name: "KBSStorePostgres",
            dependencies: [
                "KBSStore", "KBSBroker", "KBSKeys", "KBSIdentity", "KBSClaims",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "KBSBroker",
            dependencies: [
                "KBSKeys", "KBSClaims", "KBSEvidence", "KBSPolicy", "KBSJOSE", "KBSIdentity",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // prctl(2) and setrlimit(2) wrappers (prctl is variadic, which Swift does not import); nothing to link.
        .systemLibrary(name: "CProcessControl"),
        .target(
            name: "KBSServer",
            dependencies: [
                "KBSPolicy", "KBSStore", "KBSStorePostgres", "KBSClaims", "KBSBroker", "KBSKeys", "KBSEvidence", "KBSIdentity",
                "CProcessControl",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "kbs",
            dependencies: [
                "KBSPolicy", "KBSPolicyTesting", "KBSClaims", "KBSServer", "KBSStore", "KBSStorePostgres", "KBSIdentity", "KBSEvidence",
                "KBSKeys", "KBSBroker", "KBSZK", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "KBSClaimsTests", dependencies: ["KBSClaims"]),
        .testTarget(name: "KBSZKTests", dependencies: ["KBSZK"]),
        .testTarget(name: "KBSPolicyTests", dependencies: ["KBSPolicy", "KBSClaims", "KBSPolicyTesting"]),
        .testTarget(
            name: "KBSPolicyTestingTests",
            dependencies: [
                "KBSPolicyTesting", "KBSPolicy", "KBSClaims", "KBSStore", "KBSStorePostgres", "KBSBroker", "KBSEvidence",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(name: "KBSKeysTests", dependencies: ["KBSKeys", "KBSClaims", "CPKCS11", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(
            name: "KBSBrokerTests",
            dependencies: [
                "KBSBroker", "KBSKeys", "KBSStore", "KBSClaims", "KBSEvidence", "KBSPolicy", "KBSJOSE",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "KBSStoreTests",
            dependencies: [
                // KBSEvidence and KBSPolicy for the RCAR flow across replicas: simulator evidence and the default policy.
                "KBSStore", "KBSStorePostgres", "KBSBroker", "KBSKeys", "KBSIdentity", "KBSClaims", "KBSEvidence", "KBSPolicy",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "KBSJOSETests",
            dependencies: [
                "KBSJOSE", "KBSClaims", .product(name: "Crypto", package: "swift-crypto"), .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "KBSXMLSecurityTests", dependencies: ["KBSXMLSecurity"]),
        .testTarget(
            name: "KBSIdentityTests",
            dependencies: ["KBSIdentity", "KBSJOSE", "KBSClaims", "KBSPolicy", "KBSPolicyTesting", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "KBSEvidenceTests",
            dependencies: [
                "KBSEvidence", "KBSClaims", "KBSPolicy", "KBSPolicyTesting", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "KBSServerTests",
            dependencies: [
                "KBSServer", "KBSStore", "KBSStorePostgres", "KBSPolicy", "KBSPolicyTesting", "KBSBroker", "KBSKeys", "KBSEvidence", "KBSClaims",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                // VaultListMethodTests drive the request-line rewriter in front of NIO's HTTP/1.1 decoder.
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // The attack suite signs its own forgeries (a TPM quote under a self-made RSA key).
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + sharedSwiftSettings
}

// Fuzz harnesses for the identity credential parsers (Fuzz/Identity). Only Tools/fuzz (jwt, siwe, saml, …) sets KBS_FUZZ
// (and builds with --sanitize=fuzzer --sanitize=address into .build-fuzz-identity/); a normal build never sees them.
if Context.environment["KBS_FUZZ"] != nil {
    package.targets.append(
        .executableTarget(
            name: "KBSIdentityFuzz",
            dependencies: ["KBSIdentity", "KBSClaims", "CSecp256k1", .product(name: "Crypto", package: "swift-crypto")],
            path: "Fuzz/Identity",
            exclude: ["Dictionaries"],
            swiftSettings: sharedSwiftSettings + [.unsafeFlags(["-parse-as-library"])]
        )
    )
    package.targets.append(
        .executableTarget(
            name: "KBSBrokerFuzz",
            dependencies: ["KBSBroker", "KBSServer", "KBSEvidence", "KBSKeys", "KBSStore", "KBSPolicy", "KBSClaims"],
            path: "Fuzz/Broker",
            swiftSettings: sharedSwiftSettings + [.unsafeFlags(["-parse-as-library"])]
        )
    )
    package.targets.append(
        .executableTarget(
            name: "KBSEvidenceFuzz",
            dependencies: ["KBSEvidence", "KBSClaims"],
            path: "Fuzz/Evidence",
            swiftSettings: sharedSwiftSettings + [.unsafeFlags(["-parse-as-library"])]
        )
    )
}
