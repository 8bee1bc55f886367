internal import CBLAS
internal import CKernels
import Common
import Dispatch

/// The shared state of one `AllPairsSearch` pass: per-row top-k heaps, and per-row candidate
/// buffers for group rankings.
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
    let bias: UnsafeMutablePointer<Float>
    let scale: Float
    /// The level of the tile scan.
    let level: SIMDLevel
    /// Max-heaps of the k best (key, id) per row, ordered by key then id.
    let heapKeys: UnsafeMutablePointer<Float>
    let heapIDs: UnsafeMutablePointer<Int32>
    let heapFill: UnsafeMutablePointer<Int32>
    /// The largest key a row still accepts: max(heap threshold, ranking threshold).
    let filter: UnsafeMutablePointer<Float>
    /// Ranking candidates: keys below `rankingThreshold[q]`, packed with a same-group bit.
    let rankingThreshold: UnsafeMutablePointer<Float>
    var group: UnsafeMutablePointer<Int32>?
    var candidates: UnsafeMutablePointer<UInt32>?
    var candidateStart: [Int] = []
    var candidateCapacity: [Int32] = []
    /// `R` per row: how many nearest others its ranking holds.
    var rankedLength: [Int32] = []
    /// Candidates stored per row.
    let candidateCount: UnsafeMutablePointer<Int32>

    init(points: Matrix, metric: Metric, k: Int, level: SIMDLevel) {
        self.level = level
        n = points.rows
        d = points.columns
        self.k = k
        self.metric = metric
        values = points.values
        scale = metric == .l2 ? -2 : -1
        bias = .allocate(capacity: n)
        let norms = points.rowNorms
        for i in 0..<n { bias[i] = metric == .l2 ? norms[i] * norms[i] : 0 }
        heapKeys = .allocate(capacity: n * k)
        heapIDs = .allocate(capacity: n * k)
        heapFill = .allocate(capacity: n)
        heapFill.initialize(repeating: 0, count: n)
        filter = .allocate(capacity: n)
        filter.initialize(repeating: .infinity, count: n)
        rankingThreshold = .allocate(capacity: n)
        rankingThreshold.initialize(repeating: -.infinity, count: n)
        candidateCount = .allocate(capacity: n)
        candidateCount.initialize(repeating: 0, count: n)
    }

    deinit {
        for pointer in [bias, heapKeys, filter, rankingThreshold] { pointer.deallocate() }
        heapIDs.deallocate()
        heapFill.deallocate()
        candidateCount.deallocate()
        group?.deallocate()
        candidates?.deallocate()
    }

    // MARK: Tiles

    /// Computes the tile `rows x columns` of the Gram matrix and offers it to both sides.
    func process(_ rows: Range<Int>, _ columns: Range<Int>) {
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: rows.count * columns.count)
        defer { tile.deallocate() }
        values.withUnsafeBufferPointer { x in
            guard let base = x.baseAddress else { return }
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows.count), Int32(columns.count), Int32(d), 1,
                base + rows.lowerBound * d, Int32(d), base + columns.lowerBound * d, Int32(d), 0, tile,
                Int32(columns.count))
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
        let hits = UnsafeMutablePointer<UInt64>.allocate(capacity: 2 * words)
        defer { hits.deallocate() }
        let rowHits = hits, columnHits = hits + words
        for r in 0..<rows.count {
            let q = rows.lowerBound + r
            let line = tile + r * width
            let rowBias = bias[q]
            let first = diagonal ? r + 1 : 0
            guard first < width else { continue }
            rn_scan_row(
                level.rawValue, line + first, Int32(width - first), bias + c0 + first, filter + c0 + first,
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

    /// Inserts (key, id) into row q's heap and ranking candidates where each accepts it.
    private func offer(to q: Int, key: Float, id: Int) {
        let heap = q * k
        let fill = Int(heapFill[q])
        if fill < k {
            siftUp(heap, from: fill, key: key, id: Int32(id))
            heapFill[q] = Int32(fill + 1)
        } else if key < heapKeys[heap] || (key == heapKeys[heap] && Int32(id) < heapIDs[heap]) {
            siftDown(heap, key: key, id: Int32(id))
        }
        if key < rankingThreshold[q], let group, let candidates {
            var used = Int(candidateCount[q])
            if used == Int(candidateCapacity[q]) {
                used = compact(q, candidates + candidateStart[q], used: used)
            }
            if key < rankingThreshold[q] {
                candidates[candidateStart[q] + used] = Self.pack(key, sameGroup: group[q] == group[id])
                candidateCount[q] = Int32(used + 1)
            }
        }
        let heapLimit = Int(heapFill[q]) < k ? Float.infinity : heapKeys[heap]
        filter[q] = max(heapLimit, rankingThreshold[q])
    }

    @inline(__always)
    private func above(_ a: Float, _ aID: Int32, _ b: Float, _ bID: Int32) -> Bool { a > b || (a == b && aID > bID) }

    private func siftUp(_ heap: Int, from start: Int, key: Float, id: Int32) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            guard above(key, id, heapKeys[heap + parent], heapIDs[heap + parent]) else { break }
            heapKeys[heap + i] = heapKeys[heap + parent]
            heapIDs[heap + i] = heapIDs[heap + parent]
            i = parent
        }
        heapKeys[heap + i] = key
        heapIDs[heap + i] = id
    }

    private func siftDown(_ heap: Int, key: Float, id: Int32) {
        var i = 0
        while true {
            var child = 2 * i + 1
            guard child < k else { break }
            if child + 1 < k,
                above(heapKeys[heap + child + 1], heapIDs[heap + child + 1], heapKeys[heap + child], heapIDs[heap + child])
            {
                child += 1
            }
            guard above(heapKeys[heap + child], heapIDs[heap + child], key, id) else { break }
            heapKeys[heap + i] = heapKeys[heap + child]
            heapIDs[heap + i] = heapIDs[heap + child]
            i = child
        }
        heapKeys[heap + i] = key
        heapIDs[heap + i] = id
    }

    /// The heaps as sorted neighbor lists with FAISS-style distances.
    func sortedNeighbors() -> Neighbors {
        var ids = [Int](repeating: -1, count: n * k)
        var distances = [Float](repeating: 0, count: n * k)
        for q in 0..<n {
            let heap = q * k
            let order = (0..<k).sorted { (heapKeys[heap + $0], heapIDs[heap + $0]) < (heapKeys[heap + $1], heapIDs[heap + $1]) }
            for (rank, slot) in order.enumerated() {
                ids[heap + rank] = Int(heapIDs[heap + slot])
                distances[heap + rank] = distance(q, key: heapKeys[heap + slot])
            }
        }
        return Neighbors(queries: n, k: k, ids: ids, distances: distances)
    }

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
    static func pack(_ key: Float, sameGroup: Bool) -> UInt32 {
        let bits = key.bitPattern
        let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        return (ordered & ~1) | (sameGroup ? 1 : 0)
    }
}
