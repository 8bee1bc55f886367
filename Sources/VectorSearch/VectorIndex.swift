internal import CFAISS
public import Common
import Foundation

/// A FAISS index that owns its handle: flat, IVF-Flat, IVF-PQ (optionally after an OPQ
/// rotation) or HNSW, under L2 or inner product.
///
/// The coarse step of an IVF index without a rotation (training its list centroids, choosing
/// the list of each added vector) runs in this project's own workers (`CoarseQuantizer`), and
/// IVF-Flat indexes are searched list by list (`IVFFlatScan`); FAISS does everything else.
///
/// The FAISS object is created (or read) in `init`, freed in `deinit`, and never leaves
/// this type; every FAISS status code is checked in `check(_:_:)`, which turns failures
/// into `VectorSearchError.faiss` carrying FAISS's own message. Files are FAISS's own
/// format, so `faiss.read_index` in Python opens them.
///
/// ```swift
/// let index = try VectorIndex(dimension: 512, kind: .flat, metric: .l2)
/// try index.add(embeddings)
/// let hits = try index.search(queries, k: 10)
/// try index.save(to: "outputs/faiss_index.index")
/// ```
public final class VectorIndex {
    /// The index structures offered here.
    public enum Kind: Equatable, Sendable {
        /// Exhaustive search (FAISS `IndexFlatL2` / `IndexFlatIP`).
        case flat
        /// Inverted lists over a k-means coarse quantizer: `lists` cells, `probes` visited per query.
        case ivfFlat(lists: Int, probes: Int)
        /// Inverted lists of product-quantized residuals (Jégou et al. 2011): `lists` cells,
        /// `probes` visited per query, each vector stored as `codes` sub-vector codes of `bits`
        /// bits; `rotated` learns an OPQ rotation first (Ge et al. 2013), in
        /// `VectorIndex.rotationIterations` iterations. `refinement` > 0 adds that many 8-bit
        /// codes of what the first codes leave over, with which FAISS re-ranks the best
        /// candidates (`IndexIVFPQR`, Jégou et al. 2011); it needs 8-bit `codes`.
        case ivfPQ(lists: Int, probes: Int, codes: Int, bits: Int, rotated: Bool, refinement: Int = 0)
        /// Hierarchical navigable small-world graph (Malkov & Yashunin 2018): `links` per node,
        /// `efSearch` candidates kept while searching.
        case hnsw(links: Int, efSearch: Int)

        /// Checks the parameters FAISS stores as 32-bit ints and needs in range to search, for
        /// `dimension`-dimensional vectors.
        func validate(dimension: Int) throws(VectorSearchError) {
            switch self {
            case .flat: break
            case .ivfFlat(let lists, let probes):
                try Self.validateLists(lists, probes: probes)
            case .ivfPQ(let lists, let probes, let codes, let bits, _, let refinement):
                try Self.validateLists(lists, probes: probes)
                guard codes > 0, dimension % codes == 0 else {
                    throw .invalidArgument("PQ codes per vector must divide the dimension \(dimension), got \(codes)")
                }
                guard (1...16).contains(bits) else {
                    throw .invalidArgument("PQ bits per code must be from 1 to 16, got \(bits)")
                }
                guard refinement == 0 || (refinement > 0 && dimension % refinement == 0 && bits == 8) else {
                    throw .invalidArgument(
                        "PQ refinement codes must divide the dimension \(dimension) and need 8-bit codes, got \(refinement) with \(bits) bits"
                    )
                }
            case .hnsw(let links, let efSearch):
                guard (2...256).contains(links) else { throw .invalidArgument("HNSW links must be from 2 to 256, got \(links)") }
                guard (1...(1 << 16)).contains(efSearch) else {
                    throw .invalidArgument("HNSW efSearch must be from 1 to 65536, got \(efSearch)")
                }
            }
        }

        private static func validateLists(_ lists: Int, probes: Int) throws(VectorSearchError) {
            guard (1...(1 << 24)).contains(lists) else {
                throw .invalidArgument("IVF lists must be from 1 to 2^24, got \(lists)")
            }
            guard (1...lists).contains(probes) else {
                throw .invalidArgument("IVF probes must be from 1 to the number of lists (\(lists)), got \(probes)")
            }
        }

        /// The FAISS `index_factory` description ("IVF1024,Flat", "OPQ32,IVF1024,PQ32x8np"; `np`:
        /// no polysemous training, which only serves Hamming-filtered search and takes minutes).
        public var factoryString: String {
            switch self {
            case .flat: "Flat"
            case .ivfFlat(let lists, _): "IVF\(lists),Flat"
            case .ivfPQ(let lists, _, let codes, let bits, let rotated, let refinement):
                (rotated ? "OPQ\(codes)," : "") + "IVF\(lists),PQ\(codes)"
                    + (refinement > 0 ? "+\(refinement)" : "x\(bits)np")
            case .hnsw(let links, _): "HNSW\(links)"
            }
        }

        /// The search-time parameter FAISS keeps in the index and its value ("nprobe", "efSearch").
        public var searchParameter: (name: String, value: Int)? {
            switch self {
            case .flat: nil
            case .ivfFlat(_, let probes), .ivfPQ(_, let probes, _, _, _, _): (name: "nprobe", value: probes)
            case .hnsw(_, let efSearch): (name: "efSearch", value: efSearch)
            }
        }

        /// The same structure searched with `value` as its search parameter (probes or efSearch).
        public func searching(with value: Int) -> Kind {
            switch self {
            case .flat: self
            case .ivfFlat(let lists, _): .ivfFlat(lists: lists, probes: value)
            case .ivfPQ(let lists, _, let codes, let bits, let rotated, let refinement):
                .ivfPQ(lists: lists, probes: value, codes: codes, bits: bits, rotated: rotated, refinement: refinement)
            case .hnsw(let links, _): .hnsw(links: links, efSearch: value)
            }
        }
    }

    private let handle: OpaquePointer
    /// The coarse quantizer of a trained IVF index without a rotation (nil for other indexes).
    private var coarse: CoarseQuantizer?
    /// The codebooks of a trained IVF-PQ index with 8-bit codes and no refinement (nil otherwise).
    private var codebooks: ProductCodebooks?
    /// Whether searches scan the lists with `IVFFlatScan` (an IVF-Flat index whose lists are in
    /// memory or memory-mapped); tests turn it off to compare with FAISS's own search.
    var scansLists = false
    /// Threads FAISS uses for this index's work.
    public var threads: Int
    /// Whether `vector(_:)` can run without changing the index (the IVF direct map is built).
    private var readyToReconstruct = false
    /// Whether searches set the process's thread pools (false once shared for concurrent reads).
    private var setsThreadPools = true

    /// Training iterations of an OPQ rotation (FAISS's default is 50): each one trains the PQ
    /// codebooks and rotates every training row, so 50 took over 6 minutes on 1280-d rows on 2
    /// busy cores; with 10, one OPQ32 build of a million rows took 362 s in experiment 11. The
    /// recall of 10 iterations against 50 has not been compared.
    public static let rotationIterations = 10

    /// Creates an empty index of `dimension`-dimensional vectors.
    public init(dimension: Int, kind: Kind = .flat, metric: Metric = .l2, threads: Int = ThreadPools.cores)
        throws(VectorSearchError)
    {
        guard dimension > 0 else { throw .invalidArgument("dimension must be positive, got \(dimension)") }
        try kind.validate(dimension: dimension)
        var created: OpaquePointer?
        try Self.check("index_factory(\(kind.factoryString))") {
            pv_faiss_index_factory(Int32(dimension), kind.factoryString, metric.faissValue, &created)
        }
        guard let created else { throw .faiss(operation: "index_factory", message: "no index returned") }
        handle = created
        self.threads = threads
        if case .ivfPQ(_, _, _, _, rotated: true, _) = kind {
            try Self.check("set OPQ iterations") { pv_faiss_set_opq_iterations(created, Int32(Self.rotationIterations)) }
        }
        if let parameter = kind.searchParameter { try setSearchParameter(parameter.name, parameter.value) }
    }

    /// Reads an index file written by this type or by FAISS in any language. `mapped` maps an
    /// IVF index's inverted lists from the file instead of copying them into memory (FAISS's
    /// IO_FLAG_MMAP): the file must then stay in place, and the index can only be searched.
    public init(contentsOf path: String, mapped: Bool = false, threads: Int = ThreadPools.cores)
        throws(VectorSearchError)
    {
        // FAISS opens the file itself: a FIFO would block it, so only a regular file gets there.
        do { try RegularFile.check(path) } catch { throw .file(error) }
        var read: OpaquePointer?
        try Self.check("read_index(\(path))") {
            mapped ? pv_faiss_read_index_mapped(path, &read) : pv_faiss_read_index(path, &read)
        }
        guard let read else { throw .faiss(operation: "read_index(\(path))", message: "no index returned") }
        handle = read
        self.threads = threads
        try readCoarseStep()
    }

    deinit { pv_faiss_index_free(handle) }

    /// The vector dimension.
    public var dimension: Int { Int(pv_faiss_index_dimension(handle)) }
    /// How many vectors the index holds.
    public var count: Int { Int(pv_faiss_index_count(handle)) }
    /// The comparison the index ranks by.
    public var metric: Metric { pv_faiss_index_metric(handle) == 0 ? .innerProduct : .l2 }
    /// Whether the index may receive vectors (IVF needs `train` first).
    public var isTrained: Bool { pv_faiss_index_is_trained(handle) != 0 }
    /// Whether the index is an IVF index (possibly behind an OPQ rotation), which can be merged.
    public var isIVF: Bool { pv_faiss_index_is_ivf(handle) != 0 }

    /// Trains the index on `vectors` (IVF: the coarse quantizer, then any PQ codebooks; a no-op
    /// for flat and HNSW).
    ///
    /// An OPQ rotation needs at least as many rows as dimensions: FAISS's rotation training
    /// corrupts memory below that (seen with Debian's libfaiss and PyPI's faiss-cpu 1.15.1,
    /// 500 rows of 1280), so fewer are refused here.
    public func train(_ vectors: Matrix) throws(VectorSearchError) {
        try checkInput(vectors, role: "training vectors")
        if !isTrained, pv_faiss_index_has_opq(handle) != 0, vectors.rows < dimension {
            throw .invalidArgument(
                "an OPQ rotation of \(dimension)-dimensional rows trains on at least \(dimension) rows, got \(vectors.rows): "
                    + "train on more rows or without the rotation")
        }
        let lists = Int(pv_faiss_ivf_list_count(handle))
        if lists > 0, !isTrained {
            ThreadPools.useOwnWorkers()
            let trained = try CoarseQuantizer.train(vectors, lists: lists, metric: metric, threads: threads)
            try Self.check("set the coarse centroids") {
                trained.centroids.values.withUnsafeBufferPointer { pv_faiss_ivf_set_centroids(handle, $0.baseAddress) }
            }
            let codes = Int(pv_faiss_ivfpq_codes(handle))
            if codes > 0, vectors.rows >= ProductCodebooks.centroids {
                let books = try ProductCodebooks.train(
                    Self.codebookTrainingRows(vectors, coarse: trained), codes: codes, threads: threads)
                try Self.check("set the PQ codebooks") {
                    books.values.withUnsafeBufferPointer { pv_faiss_ivfpq_set_codebooks(handle, $0.baseAddress) }
                }
            }
        }
        if !isTrained {
            ThreadPools.useFAISS(threads: threads)
            try Self.check("train") {
                vectors.values.withUnsafeBufferPointer { pv_faiss_index_train(handle, Int64(vectors.rows), $0.baseAddress) }
            }
        }
        try readCoarseStep()
    }

    /// The residuals PQ codebooks train on: of at most 256 rows per codebook centroid (FAISS's
    /// cap), spread evenly over `vectors`.
    private static func codebookTrainingRows(_ vectors: Matrix, coarse: CoarseQuantizer) -> Matrix {
        let limit = 256 * ProductCodebooks.centroids
        let rows =
            vectors.rows <= limit
            ? vectors
            : Matrix(rows: limit, columns: vectors.columns, values: vectors.evenlySpreadIDs(limit).flatMap { vectors.row($0) })
        return coarse.residuals(of: rows, lists: coarse.nearest(rows, probes: 1).lists)
    }

    /// Reads a trained IVF index's coarse centroids (when it has no rotation) and whether its
    /// lists can be scanned here.
    private func readCoarseStep() throws(VectorSearchError) {
        let lists = Int(pv_faiss_ivf_list_count(handle))
        guard lists > 0, isTrained else { return }
        var values = [Float](repeating: 0, count: lists * dimension)
        try Self.check("read the coarse centroids") {
            values.withUnsafeMutableBufferPointer { pv_faiss_ivf_centroids(handle, $0.baseAddress) }
        }
        coarse = CoarseQuantizer(centroids: Matrix(rows: lists, columns: dimension, values: values), metric: metric)
        let codes = Int(pv_faiss_ivfpq_codes(handle))
        if codes > 0 {
            var books = [Float](repeating: 0, count: ProductCodebooks.centroids * dimension)
            try Self.check("read the PQ codebooks") {
                books.withUnsafeMutableBufferPointer { pv_faiss_ivfpq_codebooks(handle, $0.baseAddress) }
            }
            codebooks = ProductCodebooks(values: books, codes: codes, dimension: dimension)
        }
        scansLists = (try? flatList(0)) != nil
    }

    /// List `number` of an IVF-Flat index whose lists are in memory or memory-mapped.
    private func flatList(_ number: Int) throws(VectorSearchError) -> IVFFlatScan.List {
        var size: Int64 = 0
        var vectors: UnsafePointer<Float>?
        var ids: UnsafePointer<Int64>?
        try Self.check("read list \(number)") { pv_faiss_ivf_flat_list(handle, Int64(number), &size, &vectors, &ids) }
        return IVFFlatScan.List(count: Int(size), vectors: vectors, ids: ids)
    }

    /// Adds `vectors`; their ids continue from `count`.
    public func add(_ vectors: Matrix) throws(VectorSearchError) {
        try checkInput(vectors, role: "vectors")
        guard isTrained else { throw .invalidArgument("the index must be trained before vectors are added") }
        if let coarse {
            ThreadPools.useOwnWorkers()
            let nearest = coarse.nearest(vectors, probes: 1, threads: threads)
            if let codebooks, !readyToReconstruct {
                let codes = codebooks.encode(coarse.residuals(of: vectors, lists: nearest.lists), threads: threads)
                try Self.check("add") { pv_faiss_ivfpq_add_codes(handle, Int64(vectors.rows), nearest.lists, codes) }
                return
            }
            ThreadPools.useFAISS(threads: threads)
            try Self.check("add") {
                vectors.values.withUnsafeBufferPointer { x in
                    pv_faiss_ivf_add_assigned(handle, Int64(vectors.rows), x.baseAddress, nearest.lists)
                }
            }
            return
        }
        ThreadPools.useFAISS(threads: threads)
        try Self.check("add") {
            vectors.values.withUnsafeBufferPointer { pv_faiss_index_add(handle, Int64(vectors.rows), $0.baseAddress) }
        }
    }

    /// Moves every vector of `other` into this index, its ids continuing after this index's;
    /// `other` is left empty. Both must be IVF indexes trained together (one trained index,
    /// copied before vectors were added): the same coarse quantizer, codebooks and rotation.
    public func merge(_ other: VectorIndex) throws(VectorSearchError) {
        guard other !== self else { throw .invalidArgument("an index cannot be merged into itself") }
        guard other.dimension == dimension else {
            throw .invalidArgument("cannot merge an index of dimension \(other.dimension) into one of dimension \(dimension)")
        }
        guard other.metric == metric else {
            throw .invalidArgument("cannot merge an index compared by \(other.metric) into one compared by \(metric)")
        }
        try Self.check("merge") { pv_faiss_index_merge(handle, other.handle) }
    }

    /// Removes the rows `rows` (distinct, each in `0..<count`); the rows after each move down,
    /// so ids stay `0..<count` in the order the rows were added. Flat and IVF indexes drop the
    /// rows where they are (IVF ids renumbered); an HNSW graph, which FAISS cannot unlink, is
    /// built again from its kept rows. IVF-PQ with refinement codes refuses.
    public func remove(rows: [Int]) throws(VectorSearchError) {
        guard !rows.isEmpty else { return }
        guard Set(rows).count == rows.count, rows.allSatisfy({ (0..<count).contains($0) }) else {
            throw .invalidArgument("rows to remove must be distinct and in 0..<\(count)")
        }
        ThreadPools.useFAISS(threads: threads)
        try Self.check("remove \(rows.count) rows") {
            rows.map(Int64.init).withUnsafeBufferPointer { pv_faiss_index_remove_rows(handle, Int64(rows.count), $0.baseAddress) }
        }
        readyToReconstruct = false
    }

    /// Makes the index safe to read from several threads at once: builds what
    /// reconstructing a vector needs (an IVF direct map) now, and from here on `search` and
    /// `vector(_:)` leave the process's thread pools as they are (set them once, e.g. with
    /// `ThreadPools.useOwnWorkers()`). After this call only FAISS's const operations run.
    public func prepareForConcurrentReads() throws(VectorSearchError) {
        try prepareReconstruct()
        setsThreadPools = false
    }

    /// The `k` nearest stored vectors of every query row, searched in batches of `batchSize` rows.
    public func search(_ queries: Matrix, k: Int, batchSize: Int = 4096) throws(VectorSearchError) -> Neighbors {
        try checkInput(queries, role: "queries")
        guard k > 0, k <= count else { throw .invalidArgument("k must be in 1...\(count) (the index size), got \(k)") }
        if scansLists, let coarse {
            var ids: [Int] = []
            var distances: [Float] = []
            for start in stride(from: 0, to: queries.rows, by: max(batchSize, 1)) {
                let part = try scanLists(queries.rows(start..<min(start + batchSize, queries.rows)), k: k, coarse: coarse)
                ids += part.ids
                distances += part.distances
            }
            return Neighbors(queries: queries.rows, k: k, ids: ids, distances: distances)
        }
        if setsThreadPools { ThreadPools.useFAISS(threads: threads) }
        var ids = [Int64](repeating: -1, count: queries.rows * k)
        var distances = [Float](repeating: 0, count: queries.rows * k)
        for start in stride(from: 0, to: queries.rows, by: max(batchSize, 1)) {
            let n = min(batchSize, queries.rows - start)
            try Self.check("search") {
                queries.values.withUnsafeBufferPointer { q in
                    distances.withUnsafeMutableBufferPointer { d in
                        ids.withUnsafeMutableBufferPointer { i in
                            pv_faiss_index_search(
                                handle, Int64(n), q.baseAddress! + start * queries.columns, Int64(k),
                                d.baseAddress! + start * k, i.baseAddress! + start * k)
                        }
                    }
                }
            }
        }
        return Neighbors(queries: queries.rows, k: k, ids: ids.map { Int($0) }, distances: distances)
    }

    /// Searches an IVF-Flat index list by list (one worker when reads are concurrent).
    private func scanLists(_ queries: Matrix, k: Int, coarse: CoarseQuantizer) throws(VectorSearchError) -> Neighbors {
        if setsThreadPools { ThreadPools.useOwnWorkers() }
        let probes = min(max(Int(pv_faiss_ivf_probes(handle)), 1), coarse.centroids.rows)
        let scan = IVFFlatScan(coarse: coarse, probes: probes, threads: setsThreadPools ? threads : 1)
        return try scan.search(queries, k: k) { number throws(VectorSearchError) in try flatList(number) }
    }

    /// One result of a single-query search.
    public struct Hit: Sendable, Equatable {
        public let id: Int
        public let distance: Float

        public init(id: Int, distance: Float) {
            self.id = id
            self.distance = distance
        }
    }

    /// The `k` stored vectors nearest `query`, nearest first, leaving out stored row `excluded`
    /// when the query is that row.
    public func nearest(_ query: [Float], k: Int, excluding excluded: Int? = nil) throws(VectorSearchError) -> [Hit] {
        try nearest(Matrix(rows: 1, columns: query.count, values: query), k: k, excluding: [excluded])[0]
    }

    /// The `k` stored vectors nearest each query, nearest first, leaving out stored row
    /// `excluded[i]` when query `i` is that row: searches one more and drops it (and any empty
    /// slot), so a list is shorter than `k` only when the index holds too few rows.
    public func nearest(_ queries: Matrix, k: Int, excluding excluded: [Int?]) throws(VectorSearchError) -> [[Hit]] {
        precondition(excluded.count == queries.rows, "\(excluded.count) excluded rows for \(queries.rows) queries")
        let wanted = min(k + (excluded.allSatisfy { $0 == nil } ? 0 : 1), count)
        let found = try search(queries, k: wanted)
        return (0..<queries.rows).map { q in
            zip(found.ids(of: q), found.distances(of: q))
                .filter { id, _ in id >= 0 && id != excluded[q] }
                .prefix(k)
                .map { Hit(id: $0.0, distance: $0.1) }
        }
    }

    /// The stored vector with id `id`.
    public func vector(_ id: Int) throws(VectorSearchError) -> [Float] {
        guard id >= 0, id < count else { throw .invalidArgument("vector id must be in 0..<\(count), got \(id)") }
        try prepareReconstruct()
        var out = [Float](repeating: 0, count: dimension)
        try Self.check("reconstruct(\(id))") {
            out.withUnsafeMutableBufferPointer { pv_faiss_index_reconstruct(handle, Int64(id), $0.baseAddress) }
        }
        return out
    }

    /// Every stored vector, in id order, as a `count x dimension` matrix.
    public func vectors() throws(VectorSearchError) -> Matrix {
        try prepareReconstruct()
        var values = [Float](repeating: 0, count: count * dimension)
        try Self.check("reconstruct_n(0, \(count))") {
            values.withUnsafeMutableBufferPointer { pv_faiss_index_reconstruct_n(handle, 0, Int64(count), $0.baseAddress) }
        }
        return Matrix(rows: count, columns: dimension, values: values)
    }

    /// Builds an IVF index's direct map once (the only step of `vector(_:)` that writes).
    private func prepareReconstruct() throws(VectorSearchError) {
        guard !readyToReconstruct else { return }
        try Self.check("make_direct_map") { pv_faiss_index_prepare_reconstruct(handle) }
        readyToReconstruct = true
    }

    /// Writes the index in FAISS's file format, atomically.
    public func save(to path: String) throws {
        try AtomicFile.write(to: path, write(to:))
    }

    /// Writes the index in FAISS's file format to `path` as it is (a temporary of an
    /// `AtomicFile` write or `AtomicFileSet`).
    public func write(to path: String) throws {
        try Self.check("write_index(\(path))") { pv_faiss_write_index(handle, path) }
    }

    /// Sets a FAISS search parameter ("nprobe", "efSearch").
    public func setSearchParameter(_ name: String, _ value: Int) throws(VectorSearchError) {
        try Self.check("set \(name)") { pv_faiss_index_set_search_parameter(handle, name, Double(value)) }
    }

    private func checkInput(_ vectors: Matrix, role: String) throws(VectorSearchError) {
        guard vectors.columns == dimension else {
            throw .invalidArgument("\(role) have dimension \(vectors.columns), the index has \(dimension)")
        }
        try vectors.checkFinite()
    }

    /// Runs one bridge call and turns a non-zero status into an error with FAISS's message.
    static func check(_ operation: String, _ call: () -> Int32) throws(VectorSearchError) {
        guard call() == 0 else {
            throw .faiss(operation: operation, message: String(cString: pv_faiss_last_error()))
        }
    }
}
