import Common

/// The product-quantizer codebooks of an IVF-PQ index with 8-bit codes, trained and applied
/// here: each of `codes` sub-vectors of a residual is coded by the nearest of 256 centroids.
///
/// Training is FAISS's `ProductQuantizer::train`: one k-means per sub-vector (`CoarseQuantizer`,
/// 25 iterations from 256 rows drawn by `seed`); the sub-vectors are trained in parallel,
/// each on one worker. Codes are each sub-vector's nearest centroid, as FAISS computes them.
struct ProductCodebooks {
    /// One quantizer of 256 centroids per sub-vector.
    let quantizers: [CoarseQuantizer]
    /// Centroids per sub-vector (8-bit codes).
    static let centroids = 256

    /// Codebooks from FAISS's layout: `codes x 256 x (dimension / codes)` floats.
    init(values: [Float], codes: Int, dimension: Int) {
        let width = dimension / codes
        let size = Self.centroids * width
        quantizers = (0..<codes).map { m in
            CoarseQuantizer(
                centroids: Matrix(rows: Self.centroids, columns: width, values: Array(values[m * size..<(m + 1) * size])),
                metric: .l2)
        }
    }

    private init(quantizers: [CoarseQuantizer]) { self.quantizers = quantizers }

    /// The codebooks in FAISS's layout.
    var values: [Float] { quantizers.flatMap(\.centroids.values) }

    /// Trains `codes` codebooks on the rows of `residuals` (which must number at least 256).
    static func train(
        _ residuals: Matrix, codes: Int, iterations: Int = 25, seed: UInt64 = 1234, threads: Int = ThreadPools.cores
    ) throws(VectorSearchError) -> ProductCodebooks {
        let slices = (0..<codes).map { slice(residuals, $0, of: codes) }
        let trained = ScratchBuffer<CoarseQuantizer?>(repeating: nil, count: codes)
        let failure = ScratchBuffer<VectorSearchError?>(repeating: nil, count: codes)
        forEachInterleaved(codes, workers: min(threads, codes)) { _, items in
            for m in items {
                do throws(VectorSearchError) {
                    trained[m] = try CoarseQuantizer.train(
                        slices[m], lists: centroids, metric: .l2, iterations: iterations, seed: seed, threads: 1)
                } catch {
                    failure[m] = error
                }
            }
        }
        if let error = (0..<codes).lazy.compactMap({ failure[$0] }).first { throw error }
        return ProductCodebooks(quantizers: (0..<codes).map { trained[$0]! })
    }

    /// The `codes` one-byte codes of every row of `residuals`, row after row.
    func encode(_ residuals: Matrix, threads: Int = ThreadPools.cores) -> [UInt8] {
        let codes = quantizers.count
        var out = [UInt8](repeating: 0, count: residuals.rows * codes)
        for (m, quantizer) in quantizers.enumerated() {
            let nearest = quantizer.nearest(Self.slice(residuals, m, of: codes), probes: 1, threads: threads)
            for (i, list) in nearest.lists.enumerated() { out[i * codes + m] = UInt8(list) }
        }
        return out
    }

    /// Sub-vector `m` of `codes` of every row, as a matrix.
    private static func slice(_ rows: Matrix, _ m: Int, of codes: Int) -> Matrix {
        let width = rows.columns / codes
        var values = [Float]()
        values.reserveCapacity(rows.rows * width)
        for i in 0..<rows.rows {
            let start = i * rows.columns + m * width
            values.append(contentsOf: rows.values[start..<start + width])
        }
        return Matrix(rows: rows.rows, columns: width, values: values)
    }
}
