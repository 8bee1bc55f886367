// swift-tools-version:6.0
import PackageDescription

/// Pic2Vec: an unsupervised image search engine and experiment harness.
///
/// Data flows ImageData -> Networks -> VectorSearch / TSNE / Metrics -> Plots + LabReport.
/// Each C library sits behind one C target, imported internally by one Swift module.
let package = Package(
    name: "Pic2Vec",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "Experiments", targets: ["Experiments"]),
        .executable(name: "pic2vec", targets: ["pic2vec"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    ],
    targets: [
        // C libraries (Debian packages), one thin target each.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
        // libjpeg and libpng report errors by longjmp: C wrappers catch them with setjmp.
        .target(name: "CImageCodecs", dependencies: ["CJPEG", "CPNG"]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .target(
            name: "CFAISS",
            cxxSettings: [.unsafeFlags(["-O2"])],
            linkerSettings: [
                .linkedLibrary("faiss"), .linkedLibrary("openblas"), .linkedLibrary("gomp"),
                .linkedLibrary("stdc++"),
                .unsafeFlags(["-L/usr/lib/x86_64-linux-gnu/openblas-pthread"]),
            ]),

        // Library modules, in data-flow order.
        .target(name: "Common", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "ImageData",
            dependencies: [
                "Common", "CImageCodecs", .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        .target(name: "CResNetKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(
            name: "Networks", dependencies: ["Common", "ImageData", "CBLAS", "CResNetKernels", "ZIPFoundation"],
            swiftSettings: [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])]),
        .target(
            name: "VectorSearch", dependencies: ["Common", "CFAISS", "CBLAS"],
            swiftSettings: [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])]),
        .target(name: "Evaluation", dependencies: ["Common"]),
        .target(name: "TSNE", dependencies: ["Common", "VectorSearch", "CBLAS"], swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        .target(name: "Plots", dependencies: ["Common", "CCairo"]),
        .target(name: "LabReport", dependencies: ["Common"]),
        .target(
            name: "SearchService",
            dependencies: [
                "Common", "ImageData", "Networks", "VectorSearch", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]),

        // Executables.
        .executableTarget(
            name: "Experiments",
            dependencies: [
                "Common", "ImageData", "Networks", "VectorSearch", "Evaluation", "TSNE", "Plots", "LabReport", "SearchService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "experiments"),
        .executableTarget(
            name: "pic2vec",
            dependencies: [
                "Common", "ImageData", "Networks", "VectorSearch", "Evaluation", "TSNE", "SearchService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]),

        // Tests.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "CommonTests", dependencies: ["Common", "TestSupport"]),
        .testTarget(name: "ImageDataTests", dependencies: ["ImageData", "TestSupport"]),
        .testTarget(name: "NetworksTests", dependencies: ["Networks", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "VectorSearchTests", dependencies: ["VectorSearch", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TSNETests", dependencies: ["TSNE", "TestSupport"]),
        .testTarget(name: "PlotsTests", dependencies: ["Plots", "TestSupport"]),
        .testTarget(name: "LabReportTests", dependencies: ["LabReport", "TestSupport"]),
        .testTarget(
            name: "SearchServiceTests",
            dependencies: ["SearchService", "TestSupport", .product(name: "HummingbirdTesting", package: "hummingbird")]),
    ]
)
