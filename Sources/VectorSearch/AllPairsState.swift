internal import CKernels
import Common
import Dispatch

/// The shared state of one `AllPairsSearch` pass: per-row nearest-k buffers, and per-row
/// candidate buffers for group rankings.
///
/// Rows are ranked by a key that differs from the distance by a per-row constant:
/// `bias[j] + scale * (x_q · x_j)` with `bias = |x|², scale = -2` under L2 (the distance is
/// `key + |x_q|²`) and `bias = 0, scale = -1` under inner product (the similarity is `-key`).
/// Smaller keys are nearer. Workers touch disjoint rows (see `AllPairsSearch.tournament`),
/// so the buffers need no locks.
final class AllPairsState: @unchecked Sendable {
    let n: Int
    let d: Int
    let k: Int
    let metric: Metric
    let values: [Float]
    /// The rows packed once as the right-hand side of `rn_gemm` (see `rn_pack_transposed`):
    /// every tile's columns are a slice of it, so no tile packs anything.
    let packedRows: ScratchBuffer<Float>
    let bias: ScratchBuffer<Float>
    let scale: Float
    /// The level of the tile scan.
    let level: SIMDLevel
    /// Each row's accepted (key, id) pairs packed as `packNearest` values, `2k` slots a row:
    /// when a row's slots are full its k smallest are kept and its threshold drops to the
    /// largest of them (an append is cheaper than a heap update; each compaction is linear).
    let nearest: ScratchBuffer<UInt64>
    let nearestCount: ScratchBuffer<Int32>
    /// Keys below this join a row's nearest (infinity until its first compaction).
    let nearestThreshold: ScratchBuffer<Float>
    /// The largest key a row still accepts: max(nearest threshold, ranking threshold).
    let filter: ScratchBuffer<Float>
    /// Ranking candidates: keys below `rankingThreshold[q]`, packed with a same-group bit.
    let rankingThreshold: ScratchBuffer<Float>
    var group: ScratchBuffer<Int32>?
    var candidates: ScratchBuffer<UInt32>?
    var candidateStart: [Int] = []
    var candidateCapacity: [Int32] = []
    /// `R` per row: how many nearest others its ranking holds.
    var rankedLength: [Int32] = []
    /// Candidates stored per row.
    let candidateCount: ScratchBuffer<Int32>

    init(points: Matrix, metric: Metric, k: Int, level: SIMDLevel, threads: Int) {
        self.level = level
        n = points.rows
        d = points.columns
        self.k = k
        self.metric = metric
        values = points.values
        packedRows = Self.packTransposed(points, threads: threads)
        scale = metric == .l2 ? -2 : -1
        let norms = points.rowNorms
        bias = ScratchBuffer(metric == .l2 ? norms.map { $0 * $0 } : [Float](repeating: 0, count: n))
        nearest = ScratchBuffer(repeating: 0, count: n * 2 * k)
        nearestCount = ScratchBuffer(repeating: 0, count: n)
        nearestThreshold = ScratchBuffer(repeating: .infinity, count: n)
        filter = ScratchBuffer(repeating: .infinity, count: n)
        rankingThreshold = ScratchBuffer(repeating: -.infinity, count: n)
        candidateCount = ScratchBuffer(repeating: 0, count: n)
    }

    /// The rows of `points` packed by `rn_pack_transposed`, 16-column slices split among threads.
    private static func packTransposed(_ points: Matrix, threads: Int) -> ScratchBuffer<Float> {
        let n = Int32(points.rows), d = Int32(points.columns)
        let packed = ScratchBuffer<Float>(repeating: 0, count: rn_packed_count(d, n))
        let slices = packed.count / max(points.columns, 1) / 16
        points.values.withUnsafeBufferPointer { x in
            forEachChunk(slices, chunks: 4 * threads, threads: threads) { _, range in
                rn_pack_transposed(
                    x.baseAddress, n, d, d, Int32(range.lowerBound * 16), Int32(range.upperBound * 16), packed.base)
            }
        }
        return packed
    }

    // MARK: Tiles

    /// Computes the tile `rows x columns` of the Gram matrix into `tile` (the worker's, room for
    /// `rows.count * columns.count` floats) and offers it to both sides; `columns` starts at a
    /// multiple of 16 (a packed slice).
    func process(_ rows: Range<Int>, _ columns: Range<Int>, tile: UnsafeMutablePointer<Float>) {
        precondition(columns.lowerBound % 16 == 0, "column block \(columns) does not start on a packed slice")
        values.withUnsafeBufferPointer { x in
            guard let base = x.baseAddress else { return }
            rn_gemm(
                level.rawValue, Int32(rows.count), Int32(columns.count), Int32(d), base + rows.lowerBound * d,
                Int32(d), packedRows.base + columns.lowerBound * d, tile, Int32(columns.count), nil, nil, 0,
                Int32(RN_ACTIVATION_NONE))
        }
        scan(tile, rows: rows, columns: columns, diagonal: rows == columns)
    }

    /// Offers every tile entry to its row's and its column's lists: the kernel marks the
    /// entries either side may accept (filters only shrink, so marks made with the filters at
    /// the start of a row are a superset), and each mark is checked again before its offer.
    /// On a diagonal tile only entries above the diagonal count.
    private func scan(_ tile: UnsafeMutablePointer<Float>, rows: Range<Int>, columns: Range<Int>, diagonal: Bool) {
        let width = columns.count
        let c0 = columns.lowerBound
        let s = scale
        let words = (width + 63) / 64
        let hits = ScratchBuffer<UInt64>(repeating: 0, count: 2 * words)
        let rowHits = hits.base, columnHits = hits.base + words
        for r in 0..<rows.count {
            let q = rows.lowerBound + r
            let line = tile + r * width
            let rowBias = bias[q]
            let first = diagonal ? r + 1 : 0
            guard first < width else { continue }
            rn_scan_row(
                level.rawValue, line + first, Int32(width - first), bias.base + c0 + first, filter.base + c0 + first,
                rowBias, filter[q], s, rowHits, columnHits)
            for word in 0..<(width - first + 63) / 64 {
                var bits = rowHits[word]
                while bits != 0 {
                    let c = first + word * 64 + bits.trailingZeroBitCount
                    let key = bias[c0 + c] + s * line[c]
                    if key < filter[q] { offer(to: q, key: key, id: c0 + c) }
                    bits &= bits - 1
                }
                bits = columnHits[word]
                while bits != 0 {
                    let c = first + word * 64 + bits.trailingZeroBitCount
                    let key = rowBias + s * line[c]
                    if key < filter[c0 + c] { offer(to: c0 + c, key: key, id: q) }
                    bits &= bits - 1
                }
            }
        }
    }

    /// Adds (key, id) to row q's nearest and ranking candidates where each accepts it.
    private func offer(to q: Int, key: Float, id: Int) {
        if key < nearestThreshold[q] {
            let slots = nearest.base + q * 2 * k
            var used = Int(nearestCount[q])
            if used == 2 * k {
                let kth = Self.select(UnsafeMutableBufferPointer(start: slots, count: used), rank: k)
                nearestThreshold[q] = Self.unpackNearest(kth)
                used = k
            }
            if key < nearestThreshold[q] {
                slots[used] = Self.packNearest(key, id: id)
                nearestCount[q] = Int32(used + 1)
            }
        }
        if key < rankingThreshold[q], let group, let candidates {
            var used = Int(candidateCount[q])
            if used == Int(candidateCapacity[q]) {
                used = compact(q, candidates.base + candidateStart[q], used: used)
            }
            if key < rankingThreshold[q] {
                candidates[candidateStart[q] + used] = Self.pack(key, sameGroup: group[q] == group[id])
                candidateCount[q] = Int32(used + 1)
            }
        }
        filter[q] = max(nearestThreshold[q], rankingThreshold[q])
    }

    /// The buffers as sorted neighbor lists (key, then smaller id first) with FAISS-style distances.
    func sortedNeighbors(threads: Int) -> Neighbors {
        // Every row holds at least k (all rows are offered until a row's first compaction).
        var distances = [Float](repeating: 0, count: n * k)
        let ids = [Int](unsafeUninitializedCapacity: n * k) { idBuffer, initialized in
            distances.withUnsafeMutableBufferPointer { distanceBuffer in
                let idOut = SharedPointer(idBuffer.baseAddress!), distanceOut = SharedPointer(distanceBuffer.baseAddress!)
                forEachChunk(n, chunks: 4 * threads, threads: threads) { _, rows in
                    for q in rows {
                        var slots = UnsafeMutableBufferPointer(start: nearest.base + q * 2 * k, count: Int(nearestCount[q]))
                        slots.sort()
                        for (rank, packed) in slots.prefix(k).enumerated() {
                            (idOut.base + q * k + rank).initialize(to: Int(packed & 0xFFFF_FFFF))
                            distanceOut.base[q * k + rank] = distance(q, key: Self.unpackNearest(packed))
                        }
                    }
                }
            }
            initialized = n * k
        }
        return Neighbors(queries: n, k: k, ids: ids, distances: distances)
    }

    /// Orders (key, id) pairs by key, then id, as unsigned integers: `ordered(key)` above the id.
    @inline(__always)
    static func packNearest(_ key: Float, id: Int) -> UInt64 { UInt64(ordered(key)) << 32 | UInt64(UInt32(id)) }

    /// The key of a `packNearest` value, exactly.
    static func unpackNearest(_ packed: UInt64) -> Float { unpack(UInt32(packed >> 32)) }

    /// The FAISS distance (clamped squared L2) or similarity of a key of row q.
    func distance(_ q: Int, key: Float) -> Float { metric == .l2 ? max(0, key + bias[q]) : -key }

    /// Keeps row q's `R` smallest candidates when its buffer is full, and lowers its
    /// threshold to the largest of them; returns the new count.
    private func compact(_ q: Int, _ buffer: UnsafeMutablePointer<UInt32>, used: Int) -> Int {
        let keep = Int(rankedLength[q])
        let largest = Self.select(UnsafeMutableBufferPointer(start: buffer, count: used), rank: keep)
        rankingThreshold[q] = Self.unpack(largest)
        return keep
    }

    /// The `rank`-th smallest (1-based) of `values` (Hoare's quickselect); reorders `values`
    /// so that the `rank` smallest come first.
    static func select<Value: Comparable>(_ values: UnsafeMutableBufferPointer<Value>, rank: Int) -> Value {
        var low = 0
        var high = values.count - 1
        let target = rank - 1
        while low < high {
            let pivot = values[(low + high) / 2]
            var i = low
            var j = high
            while i <= j {
                while values[i] < pivot { i += 1 }
                while values[j] > pivot { j -= 1 }
                if i <= j {
                    values.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if target <= j { high = j } else if target >= i { low = i } else { break }
        }
        return values[target]
    }

    /// The key of a packed candidate (to within its lowest bit).
    static func unpack(_ packed: UInt32) -> Float {
        Float(bitPattern: packed & 0x8000_0000 != 0 ? packed & 0x7FFF_FFFF : ~packed)
    }

    /// Orders keys as unsigned integers and stores the same-group flag in the lowest bit
    /// (so keys one unit in the last place apart may swap: ties aside).
    @inline(__always)
    static func pack(_ key: Float, sameGroup: Bool) -> UInt32 { (ordered(key) & ~1) | (sameGroup ? 1 : 0) }

    /// A key's bits as an unsigned integer in the key's order (`unpack` inverts it).
    @inline(__always)
    static func ordered(_ key: Float) -> UInt32 {
        let bits = key.bitPattern
        return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    }
}
