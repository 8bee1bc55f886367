public import Common
import Foundation

/// Chooses an index structure and its search parameter for a set of vectors from a memory
/// budget and a recall target, by building candidates and measuring recall@k on the set's own
/// rows, as autofaiss does for clip-retrieval.
///
/// Two disjoint samples of rows serve as queries: the search parameter (IVF `nprobe`) is tuned
/// on the first, and the chosen index's recall is then measured on the second, which it never
/// saw. Candidates, in order: exact search for small sets (up to `exactUpTo` rows), IVF-Flat,
/// IVF-PQ after an OPQ rotation with the most codes the budget allows, and exact search again
/// (the only way to recall 1). The first candidate that fits the budget and reaches the target
/// on the tuning queries wins. HNSW is left to explicit use: on a million vectors its build
/// alone takes longer than tuning every IVF candidate here.
public struct IndexTuner {
    /// The recall@k asked for, in (0, 1].
    public let targetRecall: Double
    /// The most bytes the index may take, or nil for no limit.
    public let memoryBudget: Int?
    public var metric: Metric
    public var threads: Int
    /// Draws the query rows.
    public var seed: UInt64
    /// Rows in each of the two query samples (fewer when the set is small).
    public var queriesPerSample = 1000
    public var k = 10
    /// Sets up to this many rows get exact search when it fits the budget (fast, recall 1).
    public var exactUpTo = 10_000

    /// What was chosen: the index (holding every row), its structure and the measurements.
    public struct Outcome {
        public let index: VectorIndex
        public let kind: VectorIndex.Kind
        public let record: TuningRecord
    }

    /// Throws when the target is not in (0, 1] or the budget is not positive.
    public init(targetRecall: Double, memoryBudget: Int?, metric: Metric, seed: UInt64, threads: Int = ThreadPools.cores)
        throws(VectorSearchError)
    {
        guard targetRecall > 0, targetRecall <= 1 else {
            throw .invalidArgument("the recall target must be above 0 and at most 1, got \(targetRecall)")
        }
        if let memoryBudget, memoryBudget <= 0 {
            throw .invalidArgument("the memory budget must be positive, got \(memoryBudget) bytes")
        }
        self.targetRecall = targetRecall
        self.memoryBudget = memoryBudget
        self.metric = metric
        self.seed = seed
        self.threads = threads
    }

    /// The structures worth trying for `count` rows of `dimension`, in order, within the budget;
    /// throws when even the smallest does not fit.
    public func candidates(count: Int, dimension: Int) throws(VectorSearchError) -> [VectorIndex.Kind] {
        let fits = { (kind: VectorIndex.Kind) in
            memoryBudget.map { kind.estimatedBytes(count: count, dimension: dimension) <= $0 } ?? true
        }
        if count <= exactUpTo, fits(.flat) { return [.flat] }
        let lists = Self.lists(for: count)
        let pq = Self.codeCounts(for: dimension).map {
            // An OPQ rotation trains on at least as many rows as dimensions (`VectorIndex.train`).
            VectorIndex.Kind.ivfPQ(lists: lists, probes: 1, codes: $0, bits: 8, rotated: count >= dimension)
        }
        let ivf: [VectorIndex.Kind] = [.ivfFlat(lists: lists, probes: 1)]
        let found = (ivf + pq.filter(fits).prefix(1) + [.flat]).filter(fits)
        guard !found.isEmpty else {
            let smallest = pq.last ?? .ivfFlat(lists: lists, probes: 1)
            throw .invalidArgument(
                "a memory budget of \(formattedBytes(memoryBudget ?? 0)) is too small for \(count) vectors of dimension \(dimension): "
                    + "the smallest index here (\(smallest.factoryString)) needs about "
                    + formattedBytes(smallest.estimatedBytes(count: count, dimension: dimension)))
        }
        return found
    }

    /// IVF lists for `count` rows: the power of two nearest sqrt(count), with at least 39
    /// training rows per list (FAISS's minimum). FAISS suggests 4 to 16 sqrt(count) on large
    /// machines; on 2 cores the k-means of 4096 lists over a million 1280-d rows alone takes
    /// about ten minutes, 1024 lists under one.
    public static func lists(for count: Int) -> Int {
        let wanted = Double(count).squareRoot()
        let power = Int(pow(2, (log2(max(wanted, 1))).rounded()))
        return max(1, min(power, count / 39))
    }

    /// PQ codes per vector to try for `dimension`, most first: divisors of the dimension from
    /// 128 down to 4 that leave at least 2 dimensions per code.
    static func codeCounts(for dimension: Int) -> [Int] {
        [128, 96, 64, 48, 32, 16, 8, 4].filter { dimension % $0 == 0 && dimension / $0 >= 2 }
    }

    /// Builds the chosen index over `source` and measures it.
    public func build(_ source: some VectorSource) throws -> Outcome {
        guard source.count > k + 1 else {
            throw VectorSearchError.invalidArgument("--type auto needs more than \(k + 1) vectors, got \(source.count)")
        }
        let kinds = try candidates(count: source.count, dimension: source.dimension)
        let perSample = min(queriesPerSample, (source.count - 1) / 2)
        var generator = SeededGenerator(seed: seed)
        let ids = Array((0..<source.count).shuffled(using: &generator).prefix(2 * perSample))
        let queries = try source.rows(at: ids)
        let truth = try ExactNeighbors(metric: metric, threads: threads).search(queries, ids: ids, in: source, k: k)
        let tuning = Sample(
            queries: queries.rows(0..<perSample), ids: Array(ids[..<perSample]), truth: truth.slice(0..<perSample))
        let validation = Sample(
            queries: queries.rows(perSample..<2 * perSample), ids: Array(ids[perSample...]),
            truth: truth.slice(perSample..<2 * perSample))
        var tried = [String]()
        for kind in kinds {
            let index = try IndexBuilder(kind: kind, metric: metric, threads: threads).build(source)
            let (chosen, recall) = try tune(kind, index: index, on: tuning)
            let parameter = chosen.searchParameter.map { " \($0.name)=\($0.value)" } ?? ""
            tried.append("\(chosen.factoryString)\(parameter): \(recall)")
            guard recall >= targetRecall else { continue }
            let record = TuningRecord(
                k: k, targetRecall: targetRecall, memoryBudget: memoryBudget,
                estimatedBytes: chosen.estimatedBytes(count: source.count, dimension: source.dimension),
                tuningQueries: perSample, validationQueries: perSample, tuningRecall: recall,
                validationRecall: try validation.recall(of: index, k: k), seed: seed, tried: tried)
            return Outcome(index: index, kind: chosen, record: record)
        }
        throw VectorSearchError.invalidArgument(
            "no index within the memory budget reaches recall@\(k) \(targetRecall) on the tuning queries (tried: "
                + tried.joined(separator: "; ") + "); allow more memory or ask for less recall")
    }

    /// The smallest search parameter of `kind` reaching the target on `sample` (the largest
    /// when none does), set on `index`, with its recall: doubling, then bisecting.
    private func tune(_ kind: VectorIndex.Kind, index: VectorIndex, on sample: Sample) throws -> (VectorIndex.Kind, Double) {
        let ceiling: Int
        switch kind {
        case .flat, .hnsw: return (kind, try sample.recall(of: index, k: k))
        case .ivfFlat(let lists, _), .ivfPQ(let lists, _, _, _, _, _): ceiling = lists
        }
        func measure(_ value: Int) throws -> Double {
            try index.setSearchParameter("nprobe", value)
            return try sample.recall(of: index, k: k)
        }
        var low = 0  // the largest value known to miss the target
        var high = 1
        var recall = try measure(high)
        while recall < targetRecall, high < ceiling {
            low = high
            high = min(2 * high, ceiling)
            recall = try measure(high)
        }
        if recall >= targetRecall {
            while high - low > 1 {
                let middle = (low + high) / 2
                let r = try measure(middle)
                if r >= targetRecall { (high, recall) = (middle, r) } else { low = middle }
            }
        }
        try index.setSearchParameter("nprobe", high)
        return (kind.searching(with: high), recall)
    }

    /// Query rows of the set with their true neighbors.
    private struct Sample {
        let queries: Matrix
        let ids: [Int]
        let truth: Neighbors

        func recall(of index: VectorIndex, k: Int) throws -> Double {
            try index.search(storedRows: queries, ids: ids, k: k).recall(against: truth)
        }
    }
}

extension Neighbors {
    /// The neighbor lists of queries `range`.
    func slice(_ range: Range<Int>) -> Neighbors {
        Neighbors(
            queries: range.count, k: k, ids: Array(ids[range.lowerBound * k..<range.upperBound * k]),
            distances: Array(distances[range.lowerBound * k..<range.upperBound * k]))
    }
}
