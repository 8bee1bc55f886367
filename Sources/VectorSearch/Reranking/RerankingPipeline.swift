public import Common
import Foundation

/// A retrieval pipeline over L2-normalized vectors: optional PCA whitening, database-side
/// augmentation, exact inner-product search, alpha query expansion and k-reciprocal
/// re-ranking, applied in that order.
///
/// Its name is its specification, `+`-joined steps (or `none`):
/// `whiten-D` (D output dimensions), `dba-N-A` and `qe-N-A` (N neighbors, alpha A),
/// `kr-K1-K2-L` (k1, k2, lambda). For example `whiten-256+qe-2-3`.
public struct RerankingPipeline: Sendable, Equatable, CustomStringConvertible {
    /// PCA whitening to this many dimensions, learned on the database.
    public var whitening: Int?
    /// Database-side augmentation.
    public var augmentation: QueryExpansion?
    /// alpha query expansion.
    public var expansion: QueryExpansion?
    /// k-reciprocal re-ranking of the first `candidates` results.
    public var kReciprocal: KReciprocalReranking?
    /// How many results k-reciprocal re-ranking reorders.
    public var candidates = 100

    public init(
        whitening: Int? = nil, augmentation: QueryExpansion? = nil, expansion: QueryExpansion? = nil,
        kReciprocal: KReciprocalReranking? = nil
    ) {
        self.whitening = whitening
        self.augmentation = augmentation
        self.expansion = expansion
        self.kReciprocal = kReciprocal
    }

    /// Exact search of the normalized vectors, nothing else.
    public static let baseline = RerankingPipeline()

    /// The pipeline new exact indexes record by default, `dba-10-3+qe-10-3+kr-20-6-0.3`: the
    /// combination experiment 10 chose on a validation split of train with the pretrained
    /// EfficientNet-Lite0 (its report gives the gain on the test queries and the cost).
    public static let recommended = RerankingPipeline(
        augmentation: QueryExpansion(depth: 10, alpha: 3), expansion: QueryExpansion(depth: 10, alpha: 3),
        kReciprocal: KReciprocalReranking(k1: 20, k2: 6, lambda: 0.3))

    /// Parses a specification (see the type's summary); throws on anything else.
    public init(name: String) throws(VectorSearchError) {
        self.init()
        guard name != "none" else { return }
        for step in name.split(separator: "+", omittingEmptySubsequences: false) {
            let parts = step.split(separator: "-").map(String.init)
            let numbers = parts.dropFirst().map { Double($0) }
            guard let kind = parts.first, numbers.allSatisfy({ $0 != nil }) else { throw Self.bad(name) }
            let n = numbers.compactMap { $0 }
            func whole(_ i: Int, _ least: Int) throws(VectorSearchError) -> Int {
                guard let v = Int(exactly: n[i]), v >= least else { throw Self.bad(name) }
                return v
            }
            switch (kind, n.count) {
            case ("whiten", 1) where whitening == nil: whitening = try whole(0, 1)
            case ("dba", 2) where augmentation == nil && n[1] >= 0:
                augmentation = QueryExpansion(depth: try whole(0, 1), alpha: Float(n[1]))
            case ("qe", 2) where expansion == nil && n[1] >= 0:
                expansion = QueryExpansion(depth: try whole(0, 1), alpha: Float(n[1]))
            case ("kr", 3) where kReciprocal == nil && (0...1).contains(n[2]):
                let k1 = try whole(0, 2), k2 = try whole(1, 1)
                kReciprocal = KReciprocalReranking(k1: k1, k2: k2, lambda: Float(n[2]))
            default: throw Self.bad(name)
            }
        }
    }

    private static func bad(_ name: String) -> VectorSearchError {
        .invalidArgument(
            "unknown re-ranking \"\(name)\": expected none or +-joined steps whiten-D, dba-N-ALPHA, qe-N-ALPHA, kr-K1-K2-LAMBDA")
    }

    /// The specification, e.g. `whiten-256+qe-2-3`, or `none`.
    public var description: String {
        func number(_ x: Float) -> String { x == x.rounded() ? String(Int(x)) : String(format: "%g", x) }
        var steps: [String] = []
        if let whitening { steps.append("whiten-\(whitening)") }
        if let a = augmentation { steps.append("dba-\(a.depth)-\(number(a.alpha))") }
        if let e = expansion { steps.append("qe-\(e.depth)-\(number(e.alpha))") }
        if let k = kReciprocal { steps.append("kr-\(k.k1)-\(k.k2)-\(number(k.lambda))") }
        return steps.isEmpty ? "none" : steps.joined(separator: "+")
    }

    /// Neighbors per database row that the database-side steps need.
    public var databaseNeighbors: Int { max(augmentation?.depth ?? 0, kReciprocal?.k1 ?? 0) }

    /// How many database neighbor searches one preparation makes (`NeighborSource` steps).
    public var databaseSearches: Int {
        databaseNeighbors == 0 ? 0 : augmentation != nil && kReciprocal != nil ? 2 : 1
    }

    /// Throws, naming the step, unless this pipeline can run on a database of `rows` rows of
    /// `dimension` floats and answer searches of it.
    public func check(rows: Int, dimension: Int) throws(VectorSearchError) {
        if let whitening { try PCAWhitening.check(dimension: whitening, rows: rows, columns: dimension) }
        guard databaseNeighbors < rows else {
            throw .invalidArgument("re-ranking \(self) needs more than \(databaseNeighbors) database rows, got \(rows)")
        }
        if let expansion, expansion.depth > rows {
            throw .invalidArgument("qe-\(expansion.depth) expands queries by more rows than the \(rows) the database holds")
        }
    }

    /// The database after the database-side steps, and what the query side needs from them.
    public struct Prepared: Sendable {
        /// The whitening learned on the database, if any.
        public let whitening: PCAWhitening?
        /// The database as searched (whitened and augmented).
        public let database: Matrix
        let reciprocal: KReciprocalReranking.Prepared?
    }

    /// Where `prepare` gets each database row's `k` nearest other rows (inner product, best
    /// first): `step` counts the searches of one preparation from 0 (one before augmentation,
    /// one after it when k-reciprocal re-ranking follows), so saved lists can be replayed.
    public typealias NeighborSource = (_ points: Matrix, _ k: Int, _ step: Int) throws(VectorSearchError) -> Neighbors

    /// The exact leave-one-out search of the rows, the default `NeighborSource`.
    public static func exactNeighbors(_ points: Matrix, _ k: Int, _ step: Int) throws(VectorSearchError) -> Neighbors {
        try AllPairsSearch(metric: .innerProduct).run(points, k: k).neighbors
    }

    /// Learns and applies the database-side steps to `database` (rows L2-normalized), taking
    /// the database's neighbor lists from `neighbors`.
    public func prepare(
        _ database: Matrix, neighbors: NeighborSource = RerankingPipeline.exactNeighbors
    ) throws(VectorSearchError) -> Prepared {
        try check(rows: database.rows, dimension: database.columns)
        let whitener = try whitening.map { d throws(VectorSearchError) in try PCAWhitening.fit(database, dimension: d) }
        var points = whitener.map { $0.apply(database) } ?? database
        guard databaseNeighbors == 0 else {
            func search(_ step: Int) throws(VectorSearchError) -> Neighbors {
                let lists = try neighbors(points, databaseNeighbors, step)
                guard lists.queries == points.rows, lists.k == databaseNeighbors else {
                    throw .invalidArgument(
                        "re-ranking \(self) needs \(databaseNeighbors) neighbors of each of \(points.rows) rows, got \(lists.k) of \(lists.queries)"
                    )
                }
                return lists
            }
            var lists = try search(0)
            if let augmentation {
                points = augmentation.expand(points, neighbors: lists, database: points)
                if kReciprocal != nil { lists = try search(1) }
            }
            return Prepared(
                whitening: whitener, database: points,
                reciprocal: kReciprocal.map { $0.prepare(database: points, neighbors: lists) })
        }
        return Prepared(whitening: whitener, database: points, reciprocal: nil)
    }

    /// The `depth` best database rows of each query (rows L2-normalized), best first, with
    /// their scores: similarities in the searched space, except that k-reciprocal re-ranking
    /// reorders the first `max(candidates, k1, reordered)` results (at most the database) and
    /// gives them their final k-reciprocal distances, lowest first.
    public func search(_ queries: Matrix, in prepared: Prepared, depth: Int, reordered: Int = 0) throws(VectorSearchError)
        -> Neighbors
    {
        var points = prepared.whitening.map { $0.apply(queries) } ?? queries
        let m = kReciprocal.map { min(max(candidates, $0.k1, reordered), prepared.database.rows) } ?? 0
        let first = max(depth, expansion?.depth ?? 0, m)
        var lists = try RankedSearch(depth: first).run(points, database: prepared.database)
        if let expansion {
            points = expansion.expand(points, neighbors: lists, database: prepared.database)
            lists = try RankedSearch(depth: first).run(points, database: prepared.database)
        }
        if let kReciprocal, let reciprocal = prepared.reciprocal {
            let reordered = kReciprocal.rerank(points, candidates: lists.prefix(m), prepared: reciprocal)
            for q in 0..<lists.queries {
                for j in 0..<m {
                    lists.ids[q * first + j] = reordered.ids[q * m + j]
                    lists.distances[q * first + j] = reordered.distances[q * m + j]
                }
            }
        }
        return lists.prefix(depth)
    }
}

extension RerankingPipeline {
    /// The database neighbor lists of a preparation of `rows` that can be updated from `lists`,
    /// those of a preparation of `previous` (`Neighbors.updated(points:kept:changed:)`), when
    /// rows were added or removed: `kept` maps each previous row to its row in `rows` (nil:
    /// removed) and `added` lists the new rows. The first search's lists are updated; the
    /// second's (after database-side augmentation) are left out, to be searched when the
    /// pipeline is next prepared: augmentation moves every row whose first neighbors changed
    /// (about ten per added row), and the rows near those lose listed neighbors, so on 50,000
    /// Lite0 rows with 500 added it searched 20,000 rows again, 40% of a full preparation
    /// (benchmarks/README.md). Nil when no list can be kept: whitening is learned from the
    /// whole database, so every point moves when any row changes.
    public func updatedLists(_ lists: [Neighbors], previous: Matrix, rows: Matrix, kept: [Int?], added: [Int])
        throws(VectorSearchError) -> [Neighbors]?
    {
        guard whitening == nil, databaseSearches > 0, let first = lists.first, first.k == databaseNeighbors else {
            return nil
        }
        try check(rows: rows.rows, dimension: rows.columns)
        return [try first.updated(points: rows, kept: kept, changed: added)]
    }
}
