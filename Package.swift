// swift-tools-version:6.0
// s2c: a deterministic fixed-point learned image codec (S2C-Hybrid-T).
import PackageDescription

// MARK: - Build flags

/// Debian's libomp-dev keeps omp.h and libomp.so in LLVM 14's own folders, not clang 21's.
let ompInclude = "/usr/lib/llvm-14/lib/clang/14.0.6/include"
let ompLib = "/usr/lib/llvm-14/lib"

/// S2C_PORTABLE=1 builds without -march=native (e.g. for binaries that move between machines).
let portable = Context.environment["S2C_PORTABLE"] == "1"
let cpuFlags: [String] = portable ? [] : ["-march=native"]

let cSettings: [CSetting] = [
    .unsafeFlags(["-fopenmp", "-idirafter", ompInclude, "-O3", "-fno-fast-math"] + cpuFlags),
]
let swiftSettings: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-idirafter", "-Xcc", ompInclude] + (portable ? [] : ["-Xcc", "-march=native"])),
]
let ompLinker: [LinkerSetting] = [
    .unsafeFlags(["-L\(ompLib)", "-Xlinker", "-rpath", "-Xlinker", ompLib]),
    .linkedLibrary("omp"),
]

// MARK: - Package

let package = Package(
    name: "s2c",
    products: [
        .executable(name: "s2c-int", targets: ["s2c-int"]),
        .executable(name: "s2c-calibrate", targets: ["s2c-calibrate"]),
        .library(name: "QuantModel", targets: ["QuantModel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: C kernels and system libraries
        .target(name: "FixedPoint", cSettings: cSettings, linkerSettings: ompLinker),
        // The model search order, in C so that s2c-dec (board/) shares it.
        .target(name: "ModelPaths"),
        .systemLibrary(name: "_CLibPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "_COpenBLAS", providers: [.apt(["libopenblas-dev"])]),

        // MARK: Swift libraries
        .target(name: "ImageIO", dependencies: ["_CLibPNG", "ModelPaths"], swiftSettings: swiftSettings),
        .target(name: "QuantModel", dependencies: ["FixedPoint"], swiftSettings: swiftSettings),
        .target(name: "Calibrate", dependencies: ["QuantModel", "ImageIO", "FixedPoint", "_COpenBLAS"],
                swiftSettings: swiftSettings),
        // Rate-distortion evaluation of the integer codec (s2c-int eval).
        .target(name: "Evaluation", dependencies: ["QuantModel", "ImageIO", "FixedPoint"], swiftSettings: swiftSettings),

        // MARK: Executables
        .executableTarget(name: "s2c-int", dependencies: [
            "QuantModel", "ImageIO", "Evaluation", "FixedPoint",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: swiftSettings),
        .executableTarget(name: "s2c-calibrate", dependencies: [
            "Calibrate", "QuantModel", "ImageIO",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: swiftSettings),

        // MARK: Tests
        .testTarget(name: "FixedPointTests", dependencies: ["FixedPoint"], swiftSettings: swiftSettings),
        .testTarget(name: "ImageIOTests", dependencies: ["ImageIO"], swiftSettings: swiftSettings),
        .testTarget(name: "QuantModelTests", dependencies: ["QuantModel"], swiftSettings: swiftSettings),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "QuantModel", "ImageIO"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "CalibrateTests", dependencies: ["Calibrate", "ImageIO"],
                    exclude: ["Help"], resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
    ]
)
