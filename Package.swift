// swift-tools-version:6.0
import PackageDescription

/// Pic2Vec: an unsupervised image search engine and experiment harness.
///
/// Data flows ImageData -> Networks -> VectorSearch / TSNE / Evaluation -> Plots + LabReport.
/// Each C library sits behind one thin C target, imported `internal` by the Swift modules that use it.
/// Dependencies name the versions tested, up to the next minor version (Package.resolved is not kept).
/// The Experiments runner needs none of the web stack: `swift run Experiments` builds no Hummingbird.
let package = Package(
    name: "Pic2Vec",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "Experiments", targets: ["Experiments"]),
        .executable(name: "pic2vec", targets: ["pic2vec"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", .upToNextMinor(from: "1.8.2")),
        .package(url: "https://github.com/weichsel/ZIPFoundation", .upToNextMinor(from: "0.9.20")),
        .package(url: "https://github.com/hummingbird-project/hummingbird", .upToNextMinor(from: "2.28.1")),
        // Hummingbird's own dependency, named because the search service uses its byte buffers directly.
        .package(url: "https://github.com/apple/swift-nio", .upToNextMinor(from: "2.101.3")),
    ],
    targets: [
        // C libraries (Debian packages), one thin target each.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
        // libjpeg and libpng report errors by longjmp: C wrappers catch them with setjmp.
        .target(name: "CImageCodecs", dependencies: ["CJPEG", "CPNG"]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CLibZ", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // FAISS links OpenBLAS through CBLAS (pkg-config finds the library on each platform).
        .target(
            name: "CFAISS", dependencies: ["CBLAS"],
            cxxSettings: [.headerSearchPath("shim"), .unsafeFlags(["-O2"])],
            linkerSettings: [.linkedLibrary("faiss"), .linkedLibrary("gomp"), .linkedLibrary("stdc++")]),

        // Library modules, in data-flow order.
        .target(name: "Common", dependencies: ["CLibZ", "COpenSSL", "CKernels"]),
        .target(
            name: "ImageData",
            dependencies: ["Common", "PythonPickle", "Download", "CImageCodecs"], swiftSettings: optimizedInTests),
        .target(name: "PythonPickle", dependencies: ["Common"]),
        .target(name: "Download", dependencies: ["Common"]),
        // Hot loops at three levels (AVX-512, AVX2+FMA, portable C), chosen at run time: the
        // wider ones carry per-function target attributes, so no flag assumes a CPU level.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(
            name: "Networks",
            dependencies: ["Common", "PythonPickle", "Download", "ImageData", "CBLAS", "CKernels", "ZIPFoundation"],
            swiftSettings: optimizedInTests),
        .target(name: "VectorSearch", dependencies: ["Common", "CFAISS", "CBLAS", "CKernels"]),
        .target(name: "Evaluation", dependencies: ["Common", "VectorSearch"]),
        // t-SNE's gradient loops run unchecked in release builds only.
        .target(
            name: "TSNE", dependencies: ["Common", "VectorSearch", "CBLAS"],
            swiftSettings: optimizedInTests + [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(name: "Plots", dependencies: ["Common", "CCairo"]),
        .target(name: "LabReport", dependencies: ["Common"]),
        .target(name: "CollectionStore", dependencies: ["Common", "ImageData", "Networks", "VectorSearch", "TSNE"]),
        .target(
            name: "SearchService",
            dependencies: [
                "Common", "ImageData", "Networks", "VectorSearch", "CollectionStore", "Evaluation",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"), .product(name: "NIOCore", package: "swift-nio"),
            ]),

        // Executables.
        .executableTarget(
            name: "Experiments",
            dependencies: [
                "Common", "ImageData", "Networks", "VectorSearch", "CollectionStore", "Evaluation", "TSNE", "Plots",
                "LabReport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "experiments"),
        .executableTarget(
            name: "pic2vec",
            dependencies: [
                "Common", "ImageData", "Networks", "VectorSearch", "CollectionStore", "Evaluation", "TSNE", "SearchService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Tests.
        .target(name: "TestSupport", dependencies: ["Common"], path: "Tests/TestSupport"),
        .testTarget(name: "CommonTests", dependencies: ["Common", "TestSupport"]),
        .testTarget(name: "PythonPickleTests", dependencies: ["PythonPickle", "TestSupport"]),
        .testTarget(name: "DownloadTests", dependencies: ["Download", "TestSupport"]),
        .testTarget(name: "ImageDataTests", dependencies: ["ImageData", "PythonPickle", "Download", "TestSupport"]),
        .testTarget(
            name: "NetworksTests", dependencies: ["Networks", "PythonPickle", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "VectorSearchTests", dependencies: ["VectorSearch", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CollectionStoreTests", dependencies: ["CollectionStore", "TestSupport"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TSNETests", dependencies: ["TSNE", "TestSupport"]),
        .testTarget(name: "PlotsTests", dependencies: ["Plots", "ImageData", "TestSupport"]),
        .testTarget(name: "LabReportTests", dependencies: ["LabReport", "TestSupport"]),
        .testTarget(
            name: "CommandTests",
            dependencies: ["pic2vec", "Experiments", "Common", "ImageData", "CollectionStore", "TestSupport"]),
        .testTarget(
            name: "SearchServiceTests",
            dependencies: [
                "SearchService", "CollectionStore", "TestSupport", .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
    ]
)

/// Debug builds (the tests) of the modules with hot Swift loops are optimized but keep every
/// bounds and overflow check: the command tests embed, resize and run t-SNE many times
/// (unoptimized, `pic2vec embed` of 24 images spent 15 s drawing random weights).
var optimizedInTests: [SwiftSetting] { [.unsafeFlags(["-O"], .when(configuration: .debug))] }
