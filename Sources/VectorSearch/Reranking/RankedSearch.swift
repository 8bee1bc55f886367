internal import CBLAS
public import Common

/// Exact inner-product search of queries against a database, returning each query's
/// `depth` best rows, best first: deep enough lists for mAP@R and for re-ranking.
///
/// Blocks of queries are multiplied by the database with one `sgemm` each on the worker's
/// own thread; the best `depth` scores of each row are then found by selection (a threshold
/// from a partial sort) and sorted, so a block never needs more than `blockSize x rows` floats.
/// Ties are broken by the smaller id. With `excluding`, query `q` never receives database row
/// `excluding[q]` (leave-one-out when the queries are database rows).
///
/// ```swift
/// let lists = try RankedSearch(depth: 100).run(queries, database: train)
/// let best = lists.ids(of: 0).first
/// ```
public struct RankedSearch: Sendable {
    /// How many database rows each query keeps.
    public var depth: Int
    /// Queries per block.
    public var blockSize: Int
    /// Worker threads.
    public var threads: Int

    public init(depth: Int, blockSize: Int = 128, threads: Int = ThreadPools.cores) {
        self.depth = depth
        self.blockSize = blockSize
        self.threads = threads
    }

    /// The `depth` rows of `database` with the largest inner product with each row of `queries`
    /// (similarities in `distances`); `excluding[q]` is skipped for query `q`.
    public func run(_ queries: Matrix, database: Matrix, excluding: [Int]? = nil) throws(VectorSearchError) -> Neighbors {
        guard queries.columns == database.columns else {
            throw .invalidArgument("queries have \(queries.columns) columns, the database \(database.columns)")
        }
        let available = database.rows - (excluding == nil ? 0 : 1)
        guard depth > 0, depth <= available else {
            throw .invalidArgument("depth must be in 1...\(available) (database rows), got \(depth)")
        }
        if let excluding, excluding.count != queries.rows {
            throw .invalidArgument("\(excluding.count) excluded rows for \(queries.rows) queries")
        }
        try queries.checkFinite()
        try database.checkFinite()
        ThreadPools.useOwnWorkers()
        let n = database.rows, d = database.columns, depth = depth
        var ids = [Int](repeating: 0, count: queries.rows * depth)
        var scores = [Float](repeating: 0, count: queries.rows * depth)
        let blocks = stride(from: 0, to: queries.rows, by: max(blockSize, 1)).map {
            $0..<min($0 + max(blockSize, 1), queries.rows)
        }
        ids.withUnsafeMutableBufferPointer { idBuffer in
            scores.withUnsafeMutableBufferPointer { scoreBuffer in
                let idOut = SharedPointer(idBuffer.baseAddress!), scoreOut = SharedPointer(scoreBuffer.baseAddress!)
                forEachInterleaved(blocks.count, workers: min(threads, blocks.count)) { _, items in
                    var products = [Float](repeating: 0, count: blockSize * n)
                    var order = [Int](repeating: 0, count: n)
                    for b in items {
                        let block = blocks[b]
                        queries.values.withUnsafeBufferPointer { q in
                            database.values.withUnsafeBufferPointer { x in
                                cblas_sgemm(
                                    CblasRowMajor, CblasNoTrans, CblasTrans, Int32(block.count), Int32(n), Int32(d), 1,
                                    q.baseAddress! + block.lowerBound * d, Int32(d), x.baseAddress!, Int32(d), 0, &products,
                                    Int32(n))
                            }
                        }
                        for (offset, query) in block.enumerated() {
                            let row = offset * n
                            if let excluding { products[row + excluding[query]] = -.infinity }
                            for i in 0..<n { order[i] = i }
                            Self.selectBest(depth, of: &order, scores: products, offset: row)
                            for j in 0..<depth {
                                idOut.base[query * depth + j] = order[j]
                                scoreOut.base[query * depth + j] = products[row + order[j]]
                            }
                        }
                    }
                }
            }
        }
        return Neighbors(queries: queries.rows, k: depth, ids: ids, distances: scores)
    }

    /// Moves the `count` best ids (largest score, then smallest id) to the front of `order`, sorted.
    static func selectBest(_ count: Int, of order: inout [Int], scores: [Float], offset: Int) {
        func better(_ a: Int, _ b: Int) -> Bool {
            let sa = scores[offset + a], sb = scores[offset + b]
            return sa > sb || (sa == sb && a < b)
        }
        var low = 0, high = order.count - 1
        // Quickselect: afterwards order[0..<count] holds the best `count` ids, unsorted.
        while low < high {
            let pivot = order[(low + high) / 2]
            var i = low, j = high
            while i <= j {
                while better(order[i], pivot) { i += 1 }
                while better(pivot, order[j]) { j -= 1 }
                if i <= j {
                    order.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if count - 1 <= j { high = j } else if count - 1 >= i { low = i } else { break }
        }
        order[0..<count].sort(by: better)
    }
}
