public import Common

/// Groups of near-identical images, found from k-nearest-neighbor lists and exact content keys.
///
/// Two images are linked when one is among the other's `k` nearest neighbors at a squared L2
/// distance of at most `threshold` (on L2-normalized embeddings, so distances lie in [0, 4]),
/// or when their content keys (hashes of the decoded pixels) are equal: exact duplicates are
/// linked whatever the threshold. Groups are the connected components of these links
/// (union-find), so they do not depend on the order in which links are found.
///
/// Within one set the neighbors come from one symmetric `AllPairsSearch` pass (never a
/// per-query loop); across two sets (queries against a reference, e.g. test against train)
/// from one FAISS flat search of all queries, and only cross links count.
///
/// ```swift
/// let search = DuplicateSearch(threshold: 0.05)
/// let groups = try search.groups(in: DuplicateSet(points: embeddings.l2Normalized(), keys: keys))
/// ```
public struct DuplicateSearch: Sendable {
    /// The default threshold as a fraction of the median nearest-neighbor distance (see
    /// `calibrated(on:fraction:given:k:threads:)`), chosen by planting modified copies into CIFAR-10 images
    /// and measuring recall and precision (`benchmarks/plant_duplicates.py`, tables in the README).
    ///
    /// The fraction depends on what the features are: a trained network's embeddings move
    /// under re-encoding, resampling and cropping about as far as a semantic neighbor lies, so
    /// their fraction is larger (0.5, measured with the pretrained EfficientNet-Lite0); random
    /// weights and raw pixels keep copies far closer than any other image (0.2).
    public static func defaultRelativeThreshold(trainedFeatures: Bool) -> Float { trainedFeatures ? 0.5 : 0.2 }

    /// The default fraction for `Thumbnail` variants (benchmarks/thumbnail_evidence.py: at 16 px, 0.15 found
    /// every planted copy among 300 images at link precision 0.98-1.00 over five seeds, and among the 10,000
    /// CIFAR-10 test images at 0.96; 0.1 missed one copy in 500).
    public static let thumbnailRelativeThreshold: Float = 0.15

    /// The median distance from each query to its nearest neighbor (0 when there are none).
    public static func medianNearestDistance(_ neighbors: Neighbors) -> Float {
        median(
            (0..<neighbors.queries).compactMap { q in
                neighbors.ids(of: q).first.flatMap { $0 >= 0 ? neighbors.distances(of: q).first : nil }
            })
    }

    /// The median of `distances` (the upper one of an even count; 0 when there are none).
    private static func median(_ distances: [Float]) -> Float {
        let sorted = distances.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    /// The largest squared L2 distance (L2-normalized embeddings) at which two images are duplicates.
    public var threshold: Float
    /// Neighbors examined per image.
    public var k: Int
    /// Worker threads for the neighbor search.
    public var threads: Int
    /// The label of a progress report on standard error while sets with variants are searched
    /// (minutes for tens of thousands of images); nil for none.
    public var progress: String?

    public init(threshold: Float, k: Int = 10, threads: Int = ThreadPools.cores) {
        precondition(
            threshold >= 0 && threshold.isFinite, "the duplicate threshold must be finite and at least 0, got \(threshold)")
        precondition(k > 0 && threads > 0, "k and threads must be positive")
        self.threshold = threshold
        self.k = k
        self.threads = threads
    }

    /// The search at the threshold rule of `pic2vec duplicates` and experiment 09: `given`, else
    /// `fraction` times the median nearest-neighbor distance within `reference` (also when other
    /// sets are then compared with it, so that a batch of queries never sets its own scale).
    ///
    /// Distances between embeddings of different models (or raw pixels) differ in scale; the
    /// median nearest-neighbor distance of the set itself sets the scale, so one fraction serves all.
    ///
    /// Returns the reference's within-set neighbors too, for its own groups.
    public static func calibrated(
        on reference: DuplicateSet, fraction: Float, given: Float? = nil, k: Int = 10, threads: Int = ThreadPools.cores,
        progress: String? = nil
    ) throws(VectorSearchError) -> Calibrated {
        var search = DuplicateSearch(threshold: 0, k: k, threads: threads)
        search.progress = progress
        // One image has no neighbour to set a scale by: then only a given threshold serves.
        guard reference.count >= 2 || given != nil else {
            throw .invalidArgument(
                "a threshold relative to the nearest-neighbor distances needs at least 2 reference images, got \(reference.count): give the threshold"
            )
        }
        let neighbors =
            reference.count >= 2
            ? try search.neighbors(within: reference)
            : Neighbors(queries: reference.count, k: 0, ids: [], distances: [])
        let median = medianNearestDistance(neighbors)
        search.threshold = try threshold(median: median, fraction: fraction, given: given)
        return Calibrated(
            search: search, referenceNeighbors: neighbors, medianNearestDistance: median, rule: rule(fraction, given))
    }

    /// A search of an index's rows: the threshold is `fraction` times the median nearest-neighbor
    /// distance within the index (or `given`), measured on up to `sample` of its rows spread evenly,
    /// each searched in the index itself with its own row left out. The index is not rebuilt.
    public static func calibrated(
        onIndex index: VectorIndex, fraction: Float, given: Float? = nil, k: Int = 10, threads: Int = ThreadPools.cores,
        sample: Int = 2000
    ) throws(VectorSearchError) -> (search: DuplicateSearch, medianNearestDistance: Float, rule: String) {
        guard index.count >= 2 || given != nil else {
            throw .invalidArgument(
                "a threshold relative to the nearest-neighbor distances needs at least 2 indexed images, got \(index.count): give the threshold"
            )
        }
        var median: Float = 0
        if index.count >= 2 {
            let rows = (0..<min(sample, index.count)).map { $0 * index.count / min(sample, index.count) }
            var values: [Float] = []
            for row in rows { values += try index.vector(row) }
            let found = try index.search(Matrix(rows: rows.count, columns: index.dimension, values: values), k: 2)
            median = Self.median(
                rows.enumerated().compactMap { q, row in
                    zip(found.ids(of: q), found.distances(of: q)).first { $0.0 != row && $0.0 >= 0 }?.1
                })
        }
        let search = DuplicateSearch(
            threshold: try threshold(median: median, fraction: fraction, given: given), k: k, threads: threads)
        return (search, median, rule(fraction, given))
    }

    /// `given`, else `fraction` times `median`, checked finite and at least 0.
    private static func threshold(median: Float, fraction: Float, given: Float?) throws(VectorSearchError) -> Float {
        let threshold = given ?? fraction * median
        guard threshold >= 0, threshold.isFinite else {
            throw .invalidArgument("the duplicate threshold must be finite and at least 0, got \(threshold)")
        }
        return threshold
    }

    /// How the threshold was set, in words.
    private static func rule(_ fraction: Float, _ given: Float?) -> String {
        given == nil ? "\(fraction) x median nearest-neighbor distance within the reference" : "given"
    }

    /// The links of `sets` as one kind of evidence: within `sets[0]` (from its within-set `neighbors`
    /// when given), or of the queries `sets[1]` against the reference `sets[0]` (from their `neighbors`
    /// in it when given).
    public func evidence(of sets: [DuplicateSet], neighbors: Neighbors? = nil) throws(VectorSearchError) -> DuplicateEvidence {
        precondition((1...2).contains(sets.count), "evidence covers one set or a reference and queries")
        let within = sets.count == 1
        let found: Neighbors
        if let neighbors {
            found = neighbors
        } else {
            found = within ? try self.neighbors(within: sets[0]) : try self.neighbors(of: sets[1], in: sets[0])
        }
        let links = within ? links(in: sets[0], neighbors: found) : links(of: sets[1], in: sets[0], neighbors: found)
        return DuplicateEvidence(sets: sets, links: links)
    }

    /// A search calibrated on a reference set (`calibrated(on:fraction:given:k:threads:)`).
    public struct Calibrated: Sendable {
        /// The search, at the calibrated threshold.
        public let search: DuplicateSearch
        /// The reference's within-set neighbors.
        public let referenceNeighbors: Neighbors
        /// The median nearest-neighbor distance within the reference.
        public let medianNearestDistance: Float
        /// How the threshold was set, in words.
        public let rule: String

        /// The links within the reference itself (`sets == [reference]`: its neighbors are reused), or
        /// of queries against it (`sets == [reference, queries]`).
        public func evidence(of sets: [DuplicateSet]) throws(VectorSearchError) -> DuplicateEvidence {
            try search.evidence(of: sets, neighbors: sets.count == 1 ? referenceNeighbors : nil)
        }
    }

    /// The `k` nearest other rows of every row of `set` (fewer when the set is small): one all-pairs pass.
    public func neighbors(within set: DuplicateSet) throws(VectorSearchError) -> Neighbors {
        guard set.count >= 2 else { throw .invalidArgument("finding duplicates needs at least 2 images, got \(set.count)") }
        guard !set.variants.isEmpty else {
            return try AllPairsSearch(metric: .l2, threads: threads).run(set.points, k: min(k, set.count - 1)).neighbors
        }
        // Every variant of every row searches the rows as they are; each row keeps its k nearest others.
        let width = min(k, set.count - 1)
        let found = try flatSearches(of: [set.points] + set.variants, in: set.points, k: width + 1)
        return Self.nearestOf(found, queries: set.count, width: width, excludingSelf: true)
    }

    /// The `k` nearest rows of `reference` for every row of `queries`: one exact FAISS flat search.
    public func neighbors(of queries: DuplicateSet, in reference: DuplicateSet) throws(VectorSearchError) -> Neighbors {
        guard queries.count >= 1, reference.count >= 1 else {
            throw .invalidArgument(
                "finding duplicates across two sets needs images in both, got \(queries.count) and \(reference.count)")
        }
        let width = min(k, reference.count)
        // Every variant of a query searches the reference as it is; each query keeps its k nearest.
        let found = try flatSearches(of: [queries.points] + queries.variants, in: reference.points, k: width)
        return found.count == 1 ? found[0] : Self.nearestOf(found, queries: queries.count, width: width, excludingSelf: false)
    }

    /// The `k` nearest rows of `points` for every row of each of `views`: one exact FAISS flat index,
    /// searched per view (`progressRows` rows at a time when a progress report is asked for).
    private func flatSearches(of views: [Matrix], in points: Matrix, k: Int) throws(VectorSearchError) -> [Neighbors] {
        let index = try VectorIndex(dimension: points.columns, kind: .flat, metric: .l2, threads: threads)
        try index.add(points)
        guard let progress else { return try views.map { view throws(VectorSearchError) in try index.search(view, k: k) } }
        let report = Progress(progress, total: views.reduce(0) { $0 + $1.rows }, unit: "image views")
        defer { report.finish() }
        return try views.map { view throws(VectorSearchError) in
            var ids: [Int] = []
            var distances: [Float] = []
            for start in stride(from: 0, to: view.rows, by: progressRows) {
                let end = min(start + progressRows, view.rows)
                let part = try index.search(
                    Matrix(
                        rows: end - start, columns: view.columns,
                        values: Array(view.values[start * view.columns..<end * view.columns])),
                    k: k)
                ids += part.ids
                distances += part.distances
                report.advance(by: end - start)
            }
            return Neighbors(queries: view.rows, k: k, ids: ids, distances: distances)
        }
    }

    /// Query rows per search between progress reports (small values exercise the chunks in tests).
    var progressRows = 4096

    /// Per query, the `width` nearest ids over several searches of the same queries (the smallest
    /// distance of each id; ties: smaller id), leaving out the query's own row when `excludingSelf`.
    private static func nearestOf(_ found: [Neighbors], queries: Int, width: Int, excludingSelf: Bool) -> Neighbors {
        var ids: [Int] = []
        var distances: [Float] = []
        for q in 0..<queries {
            var nearest: [Int: Float] = [:]
            for result in found {
                for (j, distance) in zip(result.ids(of: q), result.distances(of: q)) where j >= 0 && !(excludingSelf && j == q) {
                    nearest[j] = min(nearest[j] ?? .infinity, distance)
                }
            }
            let kept = nearest.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.prefix(width)
            ids += kept.map(\.key) + Array(repeating: -1, count: width - kept.count)
            distances += kept.map(\.value) + Array(repeating: .infinity, count: width - kept.count)
        }
        return Neighbors(queries: queries, k: width, ids: ids, distances: distances)
    }

    /// Duplicate groups within one set.
    public func groups(in set: DuplicateSet) throws(VectorSearchError) -> [DuplicateGroup] {
        groups(in: set, neighbors: try neighbors(within: set))
    }

    /// Duplicate groups within one set, from its precomputed within-set `neighbors`.
    public func groups(in set: DuplicateSet, neighbors: Neighbors) -> [DuplicateGroup] {
        Self.groups(of: links(in: set, neighbors: neighbors), sets: [set])
    }

    /// The linked pairs within one set, from its precomputed within-set `neighbors`: each row with
    /// its neighbors within the threshold, and each row with the first row of equal key; each pair once.
    public func links(in set: DuplicateSet, neighbors: Neighbors) -> [DuplicateLink] {
        precondition(neighbors.queries == set.count, "\(neighbors.queries) neighbor lists for \(set.count) images")
        var links = Set<DuplicateLink>()
        for q in 0..<set.count {
            for (j, distance) in zip(neighbors.ids(of: q), neighbors.distances(of: q)) where j >= 0 && distance <= threshold {
                links.insert(DuplicateLink(DuplicateItem(set: 0, row: q), DuplicateItem(set: 0, row: j)))
            }
        }
        var firstWithKey: [String: Int] = [:]
        for (row, key) in set.keys.enumerated() {
            if let first = firstWithKey[key] {
                links.insert(DuplicateLink(DuplicateItem(set: 0, row: first), DuplicateItem(set: 0, row: row)))
            } else {
                firstWithKey[key] = row
            }
        }
        return links.sorted()
    }

    /// Duplicate groups across two sets: every row of `queries` (set 1) linked to its duplicates
    /// in `reference` (set 0); links inside either set are not followed.
    public func groups(of queries: DuplicateSet, in reference: DuplicateSet) throws(VectorSearchError) -> [DuplicateGroup] {
        groups(of: queries, in: reference, neighbors: try neighbors(of: queries, in: reference))
    }

    /// Duplicate groups across two sets, from precomputed `neighbors` of the queries in the reference.
    public func groups(of queries: DuplicateSet, in reference: DuplicateSet, neighbors: Neighbors) -> [DuplicateGroup] {
        Self.groups(of: links(of: queries, in: reference, neighbors: neighbors), sets: [reference, queries])
    }

    /// The linked pairs across two sets, from precomputed `neighbors` of the queries (set 1) in the
    /// reference (set 0): each query with its neighbors within the threshold and with the first
    /// reference row of equal key.
    public func links(of queries: DuplicateSet, in reference: DuplicateSet, neighbors: Neighbors) -> [DuplicateLink] {
        precondition(neighbors.queries == queries.count, "\(neighbors.queries) neighbor lists for \(queries.count) queries")
        var links = Set<DuplicateLink>()
        for q in 0..<queries.count {
            for (j, distance) in zip(neighbors.ids(of: q), neighbors.distances(of: q)) where j >= 0 && distance <= threshold {
                links.insert(DuplicateLink(DuplicateItem(set: 0, row: j), DuplicateItem(set: 1, row: q)))
            }
        }
        var referenceRow: [String: Int] = [:]
        for (row, key) in reference.keys.enumerated() where referenceRow[key] == nil { referenceRow[key] = row }
        for (q, key) in queries.keys.enumerated() {
            if let row = referenceRow[key] {
                links.insert(DuplicateLink(DuplicateItem(set: 0, row: row), DuplicateItem(set: 1, row: q)))
            }
        }
        return links.sorted()
    }

    /// The connected components of `links` over the items of `sets`, members in item order, largest
    /// group first (ties: the group whose first member comes first).
    public static func groups(of links: [DuplicateLink], sets: [DuplicateSet]) -> [DuplicateGroup] {
        let offsets = sets.reduce(into: [0]) { $0.append($0.last! + $1.count) }
        var union = UnionFind(count: offsets.last!)
        for link in links { union.union(offsets[link.a.set] + link.a.row, offsets[link.b.set] + link.b.row) }
        return components(of: &union, sets: sets) { index in
            let set = offsets.lastIndex { $0 <= index }!
            return DuplicateItem(set: set, row: index - offsets[set])
        }
    }

    /// The components of two or more items, members in item order, largest group first
    /// (ties: the group whose first member comes first).
    private static func components(
        of links: inout UnionFind, sets: [DuplicateSet], item: (Int) -> DuplicateItem
    ) -> [DuplicateGroup] {
        var members: [Int: [Int]] = [:]
        for i in 0..<links.count { members[links.find(i), default: []].append(i) }
        let groups = members.values.filter { $0.count >= 2 }.map { indices in
            let items = indices.map(item).sorted()
            let first = items[0]
            return DuplicateGroup(
                members: items.map { member in
                    DuplicateGroup.Member(
                        item: member,
                        distance: sets[first.set].distance(first.row, sets[member.set], member.row),
                        exact: sets[first.set].keys[first.row] == sets[member.set].keys[member.row])
                })
        }
        return groups.sorted { ($0.members.count, $1.members[0].item) > ($1.members.count, $0.members[0].item) }
    }

}

/// The images of one set as the duplicate search sees them: embeddings and content keys.
public struct DuplicateSet: Sendable {
    /// One L2-normalized embedding per row.
    public let points: Matrix
    /// Other L2-normalized views of the same rows (e.g. mirrored and cropped thumbnails): two
    /// images are as far apart as the nearest of their pairs with at least one side as is.
    public let variants: [Matrix]
    /// One key per row, equal exactly when the decoded pixels are equal (a hash of them).
    public let keys: [String]

    public init(points: Matrix, variants: [Matrix] = [], keys: [String]) {
        precondition(points.rows == keys.count, "\(keys.count) content keys for \(points.rows) embeddings")
        precondition(
            variants.allSatisfy { $0.rows == points.rows && $0.columns == points.columns },
            "variants must match the points' shape")
        self.points = points
        self.variants = variants
        self.keys = keys
    }

    /// The images seen through several `views` of equal shape: the first as they are, the others as
    /// their variants.
    public init(views: [Matrix], keys: [String]) {
        precondition(!views.isEmpty, "a duplicate set needs at least one view")
        self.init(points: views[0], variants: Array(views.dropFirst()), keys: keys)
    }

    /// The squared L2 distance between row `a` and row `b` of `other`: over their variants, the
    /// nearest pair with at least one side as is.
    func distance(_ a: Int, _ other: DuplicateSet, _ b: Int) -> Float {
        var best = squaredDistance(points.row(a), other.points.row(b))
        for variant in variants.indices {
            best = min(best, squaredDistance(variants[variant].row(a), other.points.row(b)))
            if variant < other.variants.count {
                best = min(best, squaredDistance(points.row(a), other.variants[variant].row(b)))
            }
        }
        return best
    }

    private func squaredDistance(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
        zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    }

    /// The number of images.
    public var count: Int { keys.count }
}

/// Two linked images of a duplicate search, the smaller item first.
public struct DuplicateLink: Hashable, Comparable, Sendable {
    public let a: DuplicateItem
    public let b: DuplicateItem

    /// The link between `x` and `y`, in either order.
    public init(_ x: DuplicateItem, _ y: DuplicateItem) {
        precondition(x != y, "an image is not linked to itself")
        (a, b) = x < y ? (x, y) : (y, x)
    }

    public static func < (x: DuplicateLink, y: DuplicateLink) -> Bool { (x.a, x.b) < (y.a, y.b) }
}

/// An image in a duplicate search: its set (0: the only or the reference set, 1: the queries) and row.
public struct DuplicateItem: Hashable, Comparable, Sendable {
    public let set: Int
    public let row: Int

    public init(set: Int, row: Int) {
        self.set = set
        self.row = row
    }

    public static func < (a: DuplicateItem, b: DuplicateItem) -> Bool { (a.set, a.row) < (b.set, b.row) }
}

/// Two or more near-identical images; the first member is the group's reference.
public struct DuplicateGroup: Sendable, Equatable {
    /// One image of a group.
    public struct Member: Sendable, Equatable {
        public let item: DuplicateItem
        /// Squared L2 distance of its embedding to the first member's (0 for the first member).
        public let distance: Float
        /// Whether its pixels equal the first member's.
        public let exact: Bool
    }

    /// The members in item order (set, then row).
    public let members: [Member]

    /// Whether every member's pixels equal the first member's.
    public var isExact: Bool { members.allSatisfy(\.exact) }
}

/// Disjoint sets of `0..<count` with path halving and union by size.
struct UnionFind {
    private var parent: [Int]
    private var size: [Int]

    init(count: Int) {
        parent = Array(0..<count)
        size = Array(repeating: 1, count: count)
    }

    var count: Int { parent.count }

    /// The representative of `i`'s set.
    mutating func find(_ i: Int) -> Int {
        var i = i
        while parent[i] != i {
            parent[i] = parent[parent[i]]
            i = parent[i]
        }
        return i
    }

    /// Merges the sets of `a` and `b`.
    mutating func union(_ a: Int, _ b: Int) {
        var (ra, rb) = (find(a), find(b))
        guard ra != rb else { return }
        if size[ra] < size[rb] { swap(&ra, &rb) }
        parent[rb] = ra
        size[ra] += size[rb]
    }
}
