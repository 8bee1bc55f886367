import Common
import Foundation

/// The repulsive part of the t-SNE gradient by FFT-accelerated interpolation (FIt-SNE).
///
/// Linderman, Rachh, Hoskins, Steinerberger & Kluger (2019), "Fast interpolation-based t-SNE
/// for improved visualization of single-cell RNA-seq data", Nature Methods 16, 243-245.
/// The embedding's bounding square is cut into `intervals x intervals` boxes with 3 equispaced
/// Lagrange nodes per box and axis. Four charges per point (1, x, y, x^2 + y^2) are spread to the
/// nodes, convolved with the kernel `1 / (1 + d^2)^2` by zero-padded 2-D FFTs (the kernel is even,
/// so its spectrum is real and one complex transform carries two real charges), and interpolated
/// back. From the four potentials come both `sum_j w_ij^2 (y_i - y_j)` and `Z = sum_{i != j} w_ij`,
/// with `w_ij = 1 / (1 + |y_i - y_j|^2)`. Box counts follow openTSNE: at least `minimumIntervals`
/// boxes, each at most `intervalWidth` wide.
final class InterpolatedRepulsion {
    /// Fewest boxes per axis.
    let minimumIntervals: Int
    /// Widest box side, in embedding units.
    let intervalWidth: Float
    /// Threads for the transforms and the per-point passes.
    let threads: Int

    private var fft: FFT?
    private var buffers: [ScratchBuffer<Float>] = []
    /// Boxes per axis and their width, kept across calls while the points fit.
    private var intervals = 0
    private var boxWidth: Float = 0
    /// The real spectrum of the kernel on the current grid (transposed layout, like the charges').
    private var kernelSpectrum: [Float] = []
    /// Per-chunk private charge grids for the spreading pass.
    private var charges: [Float] = []
    /// Per point: lower grid node on each axis and the 3 + 3 Lagrange weights.
    private var nodes: [Int32] = []
    private var weights: [Float] = []

    private static let spreadChunks = 2
    private static let pointChunks = 8

    init(minimumIntervals: Int = 50, intervalWidth: Float = 1, threads: Int) {
        self.minimumIntervals = minimumIntervals
        self.intervalWidth = intervalWidth
        self.threads = threads
    }

    /// Writes `sum_j w_ij^2 (y_i - y_j)` for every point into `forces` (`n * 2`, interleaved) and returns `Z`.
    ///
    /// - Parameter y: `n * 2` interleaved coordinates.
    func forces(_ y: UnsafeBufferPointer<Float>, into forces: UnsafeMutablePointer<Float>) -> Double {
        let n = y.count / 2
        var low = Float.infinity, high = -Float.infinity
        for v in y {
            low = min(low, v)
            high = max(high, v)
        }
        let span = max(high - low, 1e-6)
        // The grid is kept, and with it the kernel's spectrum, while it still covers the points
        // with boxes no wider than openTSNE's (span / minimumIntervals, at most intervalWidth);
        // a new grid leaves 5% room to grow.
        let widest = min(intervalWidth, span / Float(minimumIntervals))
        if fft == nil || span > Float(intervals) * boxWidth || boxWidth > widest {
            let needed = max(minimumIntervals, Int((1.05 * span / widest).rounded(.up)))
            let size = FFT.smoothLength(atLeast: 6 * needed - 1)
            intervals = (size + 1) / 6
            boxWidth = max(widest, span / Float(intervals))
            prepare(size: size)
        }
        guard let fft else { preconditionFailure("no FFT plan after preparing the grid") }
        let (size, pitch) = (fft.n, Self.pitch(fft.n))
        let g = 3 * intervals
        locate(y, low: low, boxWidth: boxWidth, intervals: intervals)
        let (aRe, aIm, atRe, atIm) = (buffers[4].base, buffers[5].base, buffers[6].base, buffers[7].base)
        let (bRe, bIm, btRe, btIm) = (buffers[8].base, buffers[9].base, buffers[10].base, buffers[11].base)
        spread(y, grid: g, size: size, pitch: pitch, into: [aRe, aIm, bRe, bIm])
        forward(fft, re: aRe, im: aIm, tRe: atRe, tIm: atIm, nonzero: g)
        forward(fft, re: bRe, im: bIm, tRe: btRe, tIm: btIm, nonzero: g)
        let scale = 1 / Float(size * size)
        for s in 0..<size * pitch {
            let k = kernelSpectrum[s] * scale
            atRe[s] *= k
            atIm[s] *= k
            btRe[s] *= k
            btIm[s] *= k
        }
        inverse(fft, tRe: atRe, tIm: atIm, re: aRe, im: aIm, needed: g)
        inverse(fft, tRe: btRe, tIm: btIm, re: bRe, im: bIm, needed: g)
        return gather(y, pitch: pitch, potentials: [aRe, aIm, bRe, bIm], into: forces, count: n)
    }

    /// Allocates the buffers for transforms of length `size` and the kernel's spectrum for the current box width.
    private func prepare(size: Int) {
        let pitch = Self.pitch(size)
        if fft?.n != size {
            fft = FFT(n: size)
            buffers = (0..<14).map { _ in ScratchBuffer(repeating: 0, count: size * pitch) }
        }
        guard let fft else { preconditionFailure("no FFT plan for length \(size)") }
        // Kernel on the circulant grid: offsets 0..<g, then -(g-1)...-1 at the end of each axis.
        let g = 3 * intervals
        let spacing = Double(boxWidth) / 3
        let (kRe, kIm, ktRe, ktIm) = (buffers[0].base, buffers[1].base, buffers[2].base, buffers[3].base)
        kRe.update(repeating: 0, count: size * pitch)
        kIm.update(repeating: 0, count: size * pitch)
        for i in 0..<size {
            let di = i < g ? i : (i > size - g ? i - size : nil)
            guard let di else { continue }
            for j in 0..<size {
                let dj = j < g ? j : (j > size - g ? j - size : nil)
                guard let dj else { continue }
                let d2 = (Double(di * di + dj * dj)) * spacing * spacing
                kRe[i * pitch + j] = Float(1 / ((1 + d2) * (1 + d2)))
            }
        }
        // The kernel is real and even, so its spectrum is real.
        forward(fft, re: kRe, im: kIm, tRe: ktRe, tIm: ktIm, nonzero: size)
        kernelSpectrum = Array(UnsafeBufferPointer(start: ktRe, count: size * pitch))
    }

    /// The row stride of the grids: `size` rounded up to whole groups of 8 columns for the FFT's vectors.
    private static func pitch(_ size: Int) -> Int { (size + 7) / 8 * 8 }

    /// Finds each point's box and its Lagrange weights at the nodes 1/6, 1/2, 5/6 of the box.
    private func locate(_ y: UnsafeBufferPointer<Float>, low: Float, boxWidth: Float, intervals: Int) {
        let n = y.count / 2
        if nodes.count != 2 * n {
            nodes = [Int32](repeating: 0, count: 2 * n)
            weights = [Float](repeating: 0, count: 6 * n)
        }
        nodes.withUnsafeMutableBufferPointer { nodePtr in
            weights.withUnsafeMutableBufferPointer { weightPtr in
                let (np, wp) = (SharedPointer(nodePtr.baseAddress!), SharedPointer(weightPtr.baseAddress!))
                forEachChunk(2 * n, chunks: Self.pointChunks, threads: threads) { _, range in
                    for s in range {
                        let u = (y[s] - low) / boxWidth
                        let box = min(max(Int(u), 0), intervals - 1)
                        let t = u - Float(box)
                        np.base[s] = Int32(3 * box)
                        wp.base[3 * s] = 4.5 * (t - 0.5) * (t - 5.0 / 6)
                        wp.base[3 * s + 1] = -9 * (t - 1.0 / 6) * (t - 5.0 / 6)
                        wp.base[3 * s + 2] = 4.5 * (t - 1.0 / 6) * (t - 0.5)
                    }
                }
            }
        }
    }

    /// Spreads the charges (1, x, y, x^2 + y^2) to the `g x g` nodes of the four output grids (row stride `size`).
    private func spread(
        _ y: UnsafeBufferPointer<Float>, grid g: Int, size: Int, pitch: Int, into grids: [UnsafeMutablePointer<Float>]
    ) {
        let n = y.count / 2
        let cells = g * g * 4
        if charges.count != cells * Self.spreadChunks {
            charges = [Float](repeating: 0, count: cells * Self.spreadChunks)
        }
        charges.withUnsafeMutableBufferPointer { chargePtr in
            let shared = SharedPointer(chargePtr.baseAddress!)
            nodes.withUnsafeBufferPointer { nodes in
                weights.withUnsafeBufferPointer { weights in
                    forEachChunk(n, chunks: Self.spreadChunks, threads: threads) { c, range in
                        let grid = shared.base + c * cells
                        grid.update(repeating: 0, count: cells)
                        for i in range {
                            let (x, yy) = (y[2 * i], y[2 * i + 1])
                            let q = (x, yy, x * x + yy * yy)
                            let (gx, gy) = (Int(nodes[2 * i]), Int(nodes[2 * i + 1]))
                            for a in 0..<3 {
                                let wx = weights[6 * i + a]
                                for b in 0..<3 {
                                    let w = wx * weights[6 * i + 3 + b]
                                    let cell = grid + ((gx + a) * g + gy + b) * 4
                                    cell[0] += w
                                    cell[1] += w * q.0
                                    cell[2] += w * q.1
                                    cell[3] += w * q.2
                                }
                            }
                        }
                    }
                }
            }
            for out in grids { out.update(repeating: 0, count: size * pitch) }
            let base = chargePtr.baseAddress!
            for r in 0..<g {
                for col in 0..<g {
                    for k in 0..<4 {
                        var sum: Float = 0
                        for c in 0..<Self.spreadChunks { sum += base[c * cells + (r * g + col) * 4 + k] }
                        grids[k][r * pitch + col] = sum
                    }
                }
            }
        }
    }

    /// Interpolates the four potentials back to the points; writes the forces and returns `Z`.
    private func gather(
        _ y: UnsafeBufferPointer<Float>, pitch: Int, potentials: [UnsafeMutablePointer<Float>],
        into forces: UnsafeMutablePointer<Float>, count n: Int
    ) -> Double {
        var partial = [Double](repeating: 0, count: Self.pointChunks)
        let out = SharedPointer(forces)
        let (p0, p1, p2, p3) = (potentials[0], potentials[1], potentials[2], potentials[3])
        partial.withUnsafeMutableBufferPointer { partialPtr in
            let sums = SharedPointer(partialPtr.baseAddress!)
            nodes.withUnsafeBufferPointer { nodes in
                weights.withUnsafeBufferPointer { weights in
                    forEachChunk(n, chunks: Self.pointChunks, threads: threads) { c, range in
                        var z = 0.0
                        for i in range {
                            let (gx, gy) = (Int(nodes[2 * i]), Int(nodes[2 * i + 1]))
                            var phi: (Float, Float, Float, Float) = (0, 0, 0, 0)
                            for a in 0..<3 {
                                let wx = weights[6 * i + a]
                                for b in 0..<3 {
                                    let w = wx * weights[6 * i + 3 + b]
                                    let s = (gx + a) * pitch + gy + b
                                    phi.0 += w * p0[s]
                                    phi.1 += w * p1[s]
                                    phi.2 += w * p2[s]
                                    phi.3 += w * p3[s]
                                }
                            }
                            let (x, yy) = (y[2 * i], y[2 * i + 1])
                            let sumQ =
                                (1 + Double(x * x + yy * yy)) * Double(phi.0)
                                - 2 * (Double(x) * Double(phi.1) + Double(yy) * Double(phi.2)) + Double(phi.3)
                            z += sumQ - 1
                            out.base[2 * i] = x * phi.0 - phi.1
                            out.base[2 * i + 1] = yy * phi.0 - phi.2
                        }
                        sums.base[c] = z
                    }
                }
            }
        }
        return partial.reduce(0, +)
    }

    /// Forward 2-D FFT of the `size x size` array `(re, im)`, nonzero only in its first `nonzero`
    /// rows and columns, into `(tRe, tIm)` in transposed layout.
    private func forward(
        _ fft: FFT, re: UnsafeMutablePointer<Float>, im: UnsafeMutablePointer<Float>,
        tRe: UnsafeMutablePointer<Float>, tIm: UnsafeMutablePointer<Float>, nonzero: Int
    ) {
        let (size, pitch) = (fft.n, Self.pitch(fft.n))
        columns(fft, re: re, im: im, columns: nonzero, inverse: false)
        transpose(re, im, into: tRe, tIm, pitch: pitch, rows: nonzero, columns: size)
        (tRe + nonzero * pitch).update(repeating: 0, count: (size - nonzero) * pitch)
        (tIm + nonzero * pitch).update(repeating: 0, count: (size - nonzero) * pitch)
        columns(fft, re: tRe, im: tIm, columns: size, inverse: false)
    }

    /// Inverse of `forward` (unnormalized), of which only the first `needed` rows and columns are computed.
    private func inverse(
        _ fft: FFT, tRe: UnsafeMutablePointer<Float>, tIm: UnsafeMutablePointer<Float>,
        re: UnsafeMutablePointer<Float>, im: UnsafeMutablePointer<Float>, needed: Int
    ) {
        let (size, pitch) = (fft.n, Self.pitch(fft.n))
        columns(fft, re: tRe, im: tIm, columns: size, inverse: true)
        transpose(tRe, tIm, into: re, im, pitch: pitch, rows: size, columns: needed)
        columns(fft, re: re, im: im, columns: needed, inverse: true)
    }

    /// Transforms columns `0..<count` along the first axis (rounded up to whole groups of 8, which
    /// the padding of each row allows), split across threads.
    private func columns(
        _ fft: FFT, re: UnsafeMutablePointer<Float>, im: UnsafeMutablePointer<Float>, columns count: Int, inverse: Bool
    ) {
        let (workRe, workIm) = (buffers[12], buffers[13])
        let (r, i) = (SharedPointer(re), SharedPointer(im))
        forEachChunk((count + 7) / 8, chunks: threads, threads: threads) { _, groups in
            guard !groups.isEmpty else { return }
            fft.transform(
                re: r.base, im: i.base, workRe: workRe.base, workIm: workIm.base,
                rowStride: Self.pitch(fft.n), columns: 8 * groups.lowerBound..<8 * groups.upperBound, inverse: inverse)
        }
    }

    /// Writes `to[a][b] = from[b][a]` for `a < rows` and `b < columns`, both with row stride `pitch`.
    private func transpose(
        _ fromRe: UnsafeMutablePointer<Float>, _ fromIm: UnsafeMutablePointer<Float>,
        into toRe: UnsafeMutablePointer<Float>, _ toIm: UnsafeMutablePointer<Float>, pitch: Int, rows: Int, columns: Int
    ) {
        let (fr, fi, tr, ti) = (SharedPointer(fromRe), SharedPointer(fromIm), SharedPointer(toRe), SharedPointer(toIm))
        let tile = 32
        forEachChunk((rows + tile - 1) / tile, chunks: threads, threads: threads) { _, range in
            for aBlock in range {
                let a0 = aBlock * tile, a1 = min(rows, a0 + tile)
                for b0 in stride(from: 0, to: columns, by: tile) {
                    let b1 = min(columns, b0 + tile)
                    for a in a0..<a1 {
                        for b in b0..<b1 {
                            tr.base[a * pitch + b] = fr.base[b * pitch + a]
                            ti.base[a * pitch + b] = fi.base[b * pitch + a]
                        }
                    }
                }
            }
        }
    }
}
