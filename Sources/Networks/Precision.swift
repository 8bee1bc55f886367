internal import CKernels

/// The arithmetic of a network's matrix products (every convolution but the depthwise ones).
///
/// `fp32` is exact to float32 rounding and the default. `bf16` rounds the weights and each layer's
/// input to bfloat16 (8 bits of mantissa) and accumulates in float32, two products per lane at a
/// time: about twice the multiply rate on CPUs with AVX512-BF16 (VDPBF16PS), at a cost in
/// retrieval quality that `benchmarks/bench_engines.py --precision bf16` measures. Opt-in only.
public enum Precision: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
    case fp32
    case bf16

    public var description: String { rawValue }

    /// Whether this CPU runs `self` with its fast kernels (fp32 always; bf16 with AVX512-BF16).
    public var isSupported: Bool {
        switch self {
        case .fp32: true
        case .bf16: rn_cpu_has_bf16() != 0
        }
    }

    /// `self` if this CPU runs it, else an error saying what the CPU lacks.
    public func checked() throws(PrecisionError) -> Precision {
        guard isSupported else { throw .unsupported(self) }
        return self
    }
}

/// A precision this CPU has no fast kernels for.
public enum PrecisionError: Error, CustomStringConvertible, Equatable {
    case unsupported(Precision)

    public var description: String {
        switch self {
        case .unsupported(let precision):
            "--precision \(precision) needs AVX512-BF16 (VDPBF16PS), which this CPU lacks; use --precision fp32"
        }
    }
}
