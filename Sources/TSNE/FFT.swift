import Foundation

/// Complex FFTs of one length `n` (with no prime factor above 5), applied to columns of a matrix.
///
/// Stockham autosort form of the Cooley-Tukey algorithm (Cooley & Tukey 1965; see Van Loan
/// 1992, "Computational Frameworks for the Fast Fourier Transform", section 1.7), mixed radix
/// 4, 2, 3, 5, so no bit reversal is needed. Data is split complex (separate real and
/// imaginary arrays) and row-major: element `t` of column `c` sits at `t * rowStride + c`,
/// so the innermost loop runs along a row, over the columns being transformed, contiguously,
/// 8 columns at a time as one SIMD vector.
struct FFT {
    /// The transform length.
    let n: Int
    /// Radices of the successive passes; their product is `n`.
    let radices: [Int]
    /// `cos(2 pi t / n)` and `sin(2 pi t / n)` for `t` in `0..<n`.
    private let cosines: [Float]
    private let sines: [Float]

    /// A plan for length `n`; nil unless `n` is a positive product of 2s, 3s and 5s.
    init?(n: Int) {
        guard n >= 1 else { return nil }
        var rest = n, radices = [Int]()
        for radix in [4, 2, 3, 5] {
            while rest % radix == 0 {
                radices.append(radix)
                rest /= radix
            }
        }
        guard rest == 1 else { return nil }
        self.n = n
        self.radices = radices
        cosines = (0..<n).map { Float(cos(2 * Double.pi * Double($0) / Double(n))) }
        sines = (0..<n).map { Float(sin(2 * Double.pi * Double($0) / Double(n))) }
    }

    /// The smallest length of at least `minimum` that has no prime factor above 5.
    static func smoothLength(atLeast minimum: Int) -> Int {
        var candidate = max(1, minimum)
        while true {
            var rest = candidate
            for p in [2, 3, 5] { while rest % p == 0 { rest /= p } }
            if rest == 1 { return candidate }
            candidate += 1
        }
    }

    /// Transforms columns `columns` (a range of whole groups of 8) of the `n x rowStride` matrix `(re, im)` in place.
    ///
    /// Forward uses `exp(-2 pi i jk / n)`; inverse uses `exp(+2 pi i jk / n)` and does not divide by `n`.
    /// `(workRe, workIm)` is scratch of the same shape; only the given columns of it are touched.
    func transform(
        re: UnsafeMutablePointer<Float>, im: UnsafeMutablePointer<Float>,
        workRe: UnsafeMutablePointer<Float>, workIm: UnsafeMutablePointer<Float>,
        rowStride: Int, columns: Range<Int>, inverse: Bool
    ) {
        precondition(columns.lowerBound % 8 == 0 && columns.count % 8 == 0, "columns must come in aligned groups of 8")
        let sign: Float = inverse ? 1 : -1
        var (srcRe, srcIm, dstRe, dstIm) = (re, im, workRe, workIm)
        var length = n, span = 1
        let c0 = columns.lowerBound, width = columns.count
        for radix in radices {
            let m = length / radix
            let twiddleStep = n / length
            for p in 0..<m {
                for q in 0..<span {
                    let input = (q + span * p) * rowStride + c0
                    let inputStep = span * m * rowStride
                    let output = (q + span * radix * p) * rowStride + c0
                    let outputStep = span * rowStride
                    let t = p * twiddleStep
                    let pass = Pass(
                        srcRe: srcRe, srcIm: srcIm, dstRe: dstRe, dstIm: dstIm, input: input, inputStep: inputStep,
                        output: output, outputStep: outputStep, width: width)
                    switch radix {
                    case 2: radix2(pass, twiddle: t, sign: sign)
                    case 4: radix4(pass, twiddle: t, sign: sign)
                    case 3: radix3(pass, twiddle: t, sign: sign)
                    default: radix5(pass, twiddle: t, sign: sign)
                    }
                }
            }
            swap(&srcRe, &dstRe)
            swap(&srcIm, &dstIm)
            length = m
            span *= radix
        }
        if srcRe != re {
            for t in 0..<n {
                let base = t * rowStride + c0
                (re + base).update(from: srcRe + base, count: width)
                (im + base).update(from: srcIm + base, count: width)
            }
        }
    }

    /// Where one butterfly group of a pass reads and writes: `radix` inputs `inputStep` apart from
    /// `input`, `radix` outputs `outputStep` apart from `output`, `width` columns of each.
    private struct Pass {
        let srcRe: UnsafeMutablePointer<Float>, srcIm: UnsafeMutablePointer<Float>
        let dstRe: UnsafeMutablePointer<Float>, dstIm: UnsafeMutablePointer<Float>
        let input: Int, inputStep: Int, output: Int, outputStep: Int, width: Int

        /// The eight complex inputs `j` at column `v`.
        @inline(__always) func load(_ j: Int, _ v: Int) -> (SIMD8<Float>, SIMD8<Float>) {
            (loadEight(srcRe, input + j * inputStep + v), loadEight(srcIm, input + j * inputStep + v))
        }

        /// Writes output `j` at column `v`, multiplied by the twiddle factor `w` (none for output 0).
        @inline(__always) func store(_ j: Int, _ v: Int, _ value: (SIMD8<Float>, SIMD8<Float>), by w: (Float, Float)? = nil) {
            guard let w else {
                storeEight(dstRe, output + v, value.0)
                storeEight(dstIm, output + v, value.1)
                return
            }
            storeTwiddled(dstRe, dstIm, output + j * outputStep + v, value, by: w)
        }
    }

    /// The twiddle factor `w^(k t)` of a forward (`sign` -1) or inverse (+1) transform.
    @inline(__always) private func twiddle(_ k: Int, _ t: Int, _ sign: Float) -> (Float, Float) {
        (cosines[k * t], sign * sines[k * t])
    }

    @inline(__always) private func radix2(_ pass: Pass, twiddle t: Int, sign: Float) {
        let w1 = twiddle(1, t, sign)
        for v in Swift.stride(from: 0, to: pass.width, by: 8) {
            let (ar, ai) = pass.load(0, v), (br, bi) = pass.load(1, v)
            pass.store(0, v, (ar + br, ai + bi))
            pass.store(1, v, (ar - br, ai - bi), by: w1)
        }
    }

    @inline(__always) private func radix4(_ pass: Pass, twiddle t: Int, sign: Float) {
        let (w1, w2, w3) = (twiddle(1, t, sign), twiddle(2, t, sign), twiddle(3, t, sign))
        for v in Swift.stride(from: 0, to: pass.width, by: 8) {
            let (a0r, a0i) = pass.load(0, v), (a1r, a1i) = pass.load(1, v)
            let (a2r, a2i) = pass.load(2, v), (a3r, a3i) = pass.load(3, v)
            let (t0r, t0i) = (a0r + a2r, a0i + a2i)
            let (t1r, t1i) = (a0r - a2r, a0i - a2i)
            let (t2r, t2i) = (a1r + a3r, a1i + a3i)
            // sign * i * (a1 - a3)
            let (t3r, t3i) = (-sign * (a1i - a3i), sign * (a1r - a3r))
            pass.store(0, v, (t0r + t2r, t0i + t2i))
            pass.store(1, v, (t1r + t3r, t1i + t3i), by: w1)
            pass.store(2, v, (t0r - t2r, t0i - t2i), by: w2)
            pass.store(3, v, (t1r - t3r, t1i - t3i), by: w3)
        }
    }

    @inline(__always) private func radix3(_ pass: Pass, twiddle t: Int, sign: Float) {
        let (w1, w2) = (twiddle(1, t, sign), twiddle(2, t, sign))
        let s = sign * Float(3.0.squareRoot() / 2)
        for v in Swift.stride(from: 0, to: pass.width, by: 8) {
            let (a0r, a0i) = pass.load(0, v), (a1r, a1i) = pass.load(1, v), (a2r, a2i) = pass.load(2, v)
            let (sr, si) = (a1r + a2r, a1i + a2i)
            let (dr, di) = (a1r - a2r, a1i - a2i)
            let (mr, mi) = (a0r - sr / 2, a0i - si / 2)
            pass.store(0, v, (a0r + sr, a0i + si))
            pass.store(1, v, (mr - s * di, mi + s * dr), by: w1)
            pass.store(2, v, (mr + s * di, mi - s * dr), by: w2)
        }
    }

    @inline(__always) private func radix5(_ pass: Pass, twiddle t: Int, sign: Float) {
        let (w1, w2, w3, w4) = (twiddle(1, t, sign), twiddle(2, t, sign), twiddle(3, t, sign), twiddle(4, t, sign))
        let c1 = Float(cos(2 * Double.pi / 5)), c2 = Float(cos(4 * Double.pi / 5))
        let s1 = sign * Float(sin(2 * Double.pi / 5)), s2 = sign * Float(sin(4 * Double.pi / 5))
        for v in Swift.stride(from: 0, to: pass.width, by: 8) {
            let (a0r, a0i) = pass.load(0, v), (a1r, a1i) = pass.load(1, v), (a2r, a2i) = pass.load(2, v)
            let (a3r, a3i) = pass.load(3, v), (a4r, a4i) = pass.load(4, v)
            let (b1r, b1i) = (a1r + a4r, a1i + a4i), (d1r, d1i) = (a1r - a4r, a1i - a4i)
            let (b2r, b2i) = (a2r + a3r, a2i + a3i), (d2r, d2i) = (a2r - a3r, a2i - a3i)
            let (e1r, e1i) = (a0r + c1 * b1r + c2 * b2r, a0i + c1 * b1i + c2 * b2i)
            let (e2r, e2i) = (a0r + c2 * b1r + c1 * b2r, a0i + c2 * b1i + c1 * b2i)
            // Outputs 1 and 4 are e1 +- i f1, outputs 2 and 3 are e2 +- i f2.
            let (f1r, f1i) = (s1 * d1r + s2 * d2r, s1 * d1i + s2 * d2i)
            let (f2r, f2i) = (s2 * d1r - s1 * d2r, s2 * d1i - s1 * d2i)
            pass.store(0, v, (a0r + b1r + b2r, a0i + b1i + b2i))
            pass.store(1, v, (e1r - f1i, e1i + f1r), by: w1)
            pass.store(2, v, (e2r - f2i, e2i + f2r), by: w2)
            pass.store(3, v, (e2r + f2i, e2i - f2r), by: w3)
            pass.store(4, v, (e1r + f1i, e1i - f1r), by: w4)
        }
    }
}

/// Eight floats at `base + offset`.
@inline(__always)
private func loadEight(_ base: UnsafeMutablePointer<Float>, _ offset: Int) -> SIMD8<Float> {
    UnsafeRawPointer(base + offset).loadUnaligned(as: SIMD8<Float>.self)
}

/// Writes eight complex values `value * w` (multiplied by the twiddle factor `w`) at `offset` of the two planes.
@inline(__always)
private func storeTwiddled(
    _ re: UnsafeMutablePointer<Float>, _ im: UnsafeMutablePointer<Float>, _ offset: Int, _ value: (SIMD8<Float>, SIMD8<Float>),
    by w: (Float, Float)
) {
    storeEight(re, offset, value.0 * w.0 - value.1 * w.1)
    storeEight(im, offset, value.0 * w.1 + value.1 * w.0)
}

/// Writes eight floats at `base + offset`.
@inline(__always)
private func storeEight(_ base: UnsafeMutablePointer<Float>, _ offset: Int, _ value: SIMD8<Float>) {
    UnsafeMutableRawPointer(base + offset).storeBytes(of: value, as: SIMD8<Float>.self)
}
