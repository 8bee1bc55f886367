internal import CKernels
import Foundation

/// The instruction-set level of the hot loops (GEMM, Winograd transforms, all-pairs scan,
/// k-means distances): every kernel has a version per level, chosen at run time.
///
/// The level is the widest this CPU runs, or the one named by `PIC2VEC_SIMD`
/// (`avx512`, `avx2` or `generic`), so tests and benchmarks can exercise every level the
/// machine has. A level the CPU lacks, or an unknown name, is an error, never an illegal
/// instruction:
///
/// ```swift
/// let level = SIMDLevel.current          // exits with a message if PIC2VEC_SIMD is invalid
/// for level in SIMDLevel.supported { ... } // tests: every level this CPU runs
/// ```
public enum SIMDLevel: Int32, CaseIterable, Comparable, Sendable, CustomStringConvertible {
    /// Plain C (and Swift), vectorized by the compiler for the target's baseline (SSE2 on x86-64, NEON on arm64).
    case generic = 0
    /// x86-64 AVX2 with FMA (Haswell, Zen 1-3 and later).
    case avx2 = 1
    /// x86-64 AVX-512F (Skylake-SP, Ice Lake, Zen 4 and later).
    case avx512 = 2

    /// The environment variable that forces a level.
    public static let environmentVariable = "PIC2VEC_SIMD"

    /// The widest level this CPU runs.
    public static let widest = SIMDLevel(rawValue: rn_cpu_level()) ?? .generic

    /// Every level this CPU runs, narrowest first.
    public static var supported: [SIMDLevel] { allCases.filter { $0 <= widest } }

    /// The level the kernels run: `PIC2VEC_SIMD` if set, else `widest`. An invalid
    /// `PIC2VEC_SIMD` prints the problem to standard error and exits with status 2.
    public static let current: SIMDLevel = {
        do {
            return try resolve(ProcessInfo.processInfo.environment[environmentVariable], widest: widest)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(2)
        }
    }()

    /// The level named by `value` (nil or empty: `widest`), checked against the CPU's `widest` level.
    public static func resolve(_ value: String?, widest: SIMDLevel) throws(SIMDLevelError) -> SIMDLevel {
        guard let value, !value.isEmpty else { return widest }
        guard let level = allCases.first(where: { $0.description == value.lowercased() }) else {
            throw .unknown(value)
        }
        guard level <= widest else { throw .unsupported(level, widest: widest) }
        return level
    }

    /// The name `PIC2VEC_SIMD` takes.
    public var description: String {
        switch self {
        case .generic: "generic"
        case .avx2: "avx2"
        case .avx512: "avx512"
        }
    }

    public static func < (a: SIMDLevel, b: SIMDLevel) -> Bool { a.rawValue < b.rawValue }
}

/// A `PIC2VEC_SIMD` value that cannot be used.
public enum SIMDLevelError: Error, Equatable, CustomStringConvertible {
    /// Not one of the level names.
    case unknown(String)
    /// A level this CPU does not run.
    case unsupported(SIMDLevel, widest: SIMDLevel)

    public var description: String {
        switch self {
        case .unknown(let value):
            "\(SIMDLevel.environmentVariable)='\(value)' is not a kernel level; use one of "
                + SIMDLevel.allCases.map(\.description).joined(separator: ", ")
        case .unsupported(let level, let widest):
            "\(SIMDLevel.environmentVariable)=\(level): this CPU lacks \(level) (it runs up to \(widest); "
                + "levels available here: \(SIMDLevel.allCases.filter { $0 <= widest }.map(\.description).joined(separator: ", ")))"
        }
    }
}
