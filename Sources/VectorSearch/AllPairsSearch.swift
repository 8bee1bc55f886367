internal import CBLAS
public import Common

/// Exact leave-one-out k-nearest-neighbor search of every row of one set among the others.
///
/// The Gram matrix `X Xᵀ` is symmetric, so only its upper triangle is computed, one
/// `blockSize x blockSize` tile at a time with one `rn_gemm` per tile pair (the rows are
/// packed once as the product's right-hand side). Each tile feeds
/// both the top-k of its rows and the top-k of its columns, so the whole search costs half
/// the products of a FAISS `IndexFlatL2` search of the set against itself, and no more than
/// `threads` tiles are ever in memory. Tile pairs are scheduled as a round-robin tournament:
/// within a round no two pairs share a block, so workers update neighbor lists without locks.
///
/// Distances match FAISS (`|x|² + |y|² - 2 x·y`, clamped at 0, or the inner product);
/// neighbors match `IndexFlatL2` except for the order of ties (here: smaller id first).
///
/// With `groups`, the pass also ranks, for every row, its `R` nearest rows, where `R` is the
/// number of other rows in its group, and records which of them share the group: the input
/// of mAP@R (Musgrave et al., "A Metric Learning Reality Check", ECCV 2020).
///
/// ```swift
/// let result = try AllPairsSearch(metric: .l2).run(embeddings, k: 100, groups: labels)
/// let firstNeighbors = result.neighbors.ids(of: 0)
/// ```
public struct AllPairsSearch: Sendable {
    /// The comparison to rank by.
    public var metric: Metric
    /// Rows per tile (rounded up to a multiple of 16).
    public var blockSize: Int
    /// Worker threads (each multiplies its own tiles).
    public var threads: Int
    /// Seeds the sample that sets the group-ranking candidate thresholds.
    public var seed: UInt64
    /// The kernel level of the tile scan.
    public var level: SIMDLevel
    /// Rows sampled to set ranking thresholds (small values exercise the exact fallback in tests).
    var sampleSize = 2048
    /// Candidate buffer size as a multiple of the expected count (small values exercise compaction in tests).
    var capacityScale = 1.1

    public init(
        metric: Metric = .l2, blockSize: Int = 512, threads: Int = ThreadPools.cores, seed: UInt64 = 0,
        level: SIMDLevel = .current
    ) {
        self.level = level
        self.metric = metric
        self.blockSize = blockSize
        self.threads = threads
        self.seed = seed
    }

    /// The result of one pass.
    public struct Result: Sendable {
        /// The `k` nearest other rows of each row, nearest first.
        public var neighbors: Neighbors
        /// Same-group flags of each row's `R` nearest others, when groups were given.
        public var groupRankings: GroupRankings?
    }

    /// Finds the `k` nearest other rows of every row of `points` (and group rankings if `groups` is given).
    public func run(_ points: Matrix, k: Int, groups: [Int]? = nil) throws(VectorSearchError) -> Result {
        guard points.rows >= 2 else { throw .invalidArgument("leave-one-out search needs at least 2 rows, got \(points.rows)") }
        guard k > 0, k < points.rows else {
            throw .invalidArgument("k must be in 1...\(points.rows - 1) (rows minus the query itself), got \(k)")
        }
        if let groups, groups.count != points.rows {
            throw .invalidArgument("\(groups.count) group labels for \(points.rows) rows")
        }
        try points.checkFinite()
        ThreadPools.useOwnWorkers()
        let state = AllPairsState(points: points, metric: metric, k: k, level: level, threads: threads)
        if let groups {
            state.prepareRankings(
                groups: groups, sampleSeed: seed, sampleSize: sampleSize, capacityScale: capacityScale, threads: threads)
        }
        let size = (max(blockSize, 16) + 15) / 16 * 16  // columns start on packed 16-column slices
        let blocks = stride(from: 0, to: points.rows, by: size).map { $0..<min($0 + size, points.rows) }
        // One tile per worker for the whole pass: a fresh megabyte per tile costs page faults.
        let workers = max(1, threads)
        let tiles = ScratchBuffer(repeating: Float(0), count: workers * size * size)
        for round in Self.tournament(blockCount: blocks.count) {
            forEachInterleaved(round.count, workers: min(workers, round.count)) { worker, items in
                for p in items {
                    state.process(blocks[round[p].0], blocks[round[p].1], tile: tiles.base + worker * size * size)
                }
            }
        }
        let neighbors = state.sortedNeighbors(threads: threads)
        let rankings = groups.map { state.finishRankings(groups: $0, threads: threads) }
        return Result(neighbors: neighbors, groupRankings: rankings)
    }

    /// Rounds of block pairs `(i, j)` with `i <= j`, covering every pair once; no block
    /// appears twice in a round (the circle method, then one round of diagonal tiles).
    static func tournament(blockCount n: Int) -> [[(Int, Int)]] {
        var rounds: [[(Int, Int)]] = [(0..<n).map { ($0, $0) }]
        let players = n % 2 == 0 ? n : n + 1
        guard players >= 2 else { return rounds }
        for r in 0..<players - 1 {
            var round: [(Int, Int)] = []
            for i in 0..<players / 2 {
                let a = i == 0 ? players - 1 : (r + i) % (players - 1)
                let b = (r + players - 1 - i) % (players - 1)
                if a < n, b < n { round.append((min(a, b), max(a, b))) }
            }
            rounds.append(round)
        }
        return rounds
    }
}

/// Same-group flags of each row's `R` nearest other rows, nearest first, as packed bits.
public struct GroupRankings: Sendable {
    /// First 64-bit word of each row's flags (rows start on word boundaries).
    let starts: [Int]
    /// `R` for each row: how many other rows share its group.
    let lengths: [Int]
    let words: [UInt64]

    /// How many rows are ranked.
    public var count: Int { lengths.count }

    /// Row q's flags: `true` where its i-th nearest other row shares its group (empty if it is alone).
    public func relevance(of q: Int) -> [Bool] {
        (0..<lengths[q]).map { words[starts[q] + $0 >> 6] >> UInt64($0 & 63) & 1 == 1 }
    }
}
