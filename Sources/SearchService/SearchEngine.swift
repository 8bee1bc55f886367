import Common
import Foundation
import ImageData
import Networks
import VectorSearch

/// Embeds query images exactly as the indexed rows were embedded.
///
/// The same network, preprocessing preset and normalization that produced the index: an
/// uploaded photo of any size is resized by the preset and lands in the index's space.
public struct QueryModel: Sendable {
    /// The network and preprocessing.
    public let embedder: Embedder
    /// Whether the index holds L2-normalized rows (then queries are normalized too).
    public let normalize: Bool

    public init(embedder: Embedder, normalize: Bool) {
        self.embedder = embedder
        self.normalize = normalize
    }

    /// The query vector of `image`.
    public func vector(_ image: RGBImage) -> [Float] {
        let embedding = embedder.embed([image])
        return (normalize ? embedding.l2Normalized() : embedding).values
    }
}

/// A FAISS index that concurrent requests search.
///
/// Unchecked: `init` builds everything a read needs (an IVF index's direct map) and sets
/// the thread pools once; after it only FAISS's const operations run on the index (search
/// and reconstruct), which FAISS documents as safe to call from several threads at once.
final class SharedIndex: @unchecked Sendable {
    let index: VectorIndex
    let count: Int
    let dimension: Int

    init(_ index: VectorIndex) throws(VectorSearchError) {
        ThreadPools.useOwnWorkers()
        index.threads = 1
        try index.prepareForConcurrentReads()
        self.index = index
        count = index.count
        dimension = index.dimension
    }
}

/// The bounds every query is checked against.
public struct SearchLimits: Sendable {
    /// The largest k a query may ask for.
    public var maxK: Int
    /// The largest upload, in bytes.
    public var maxUploadBytes: Int
    /// The most pixels an uploaded image may declare (checked before decoding).
    public var maxUploadPixels: Int
    /// Uploads declaring more pixels than this are large: decoded one at a time on a lane of
    /// their own, so that their memory stays bounded and small uploads never wait behind them.
    public var largeUploadPixels: Int

    public init(
        maxK: Int = 50, maxUploadBytes: Int = 10 << 20, maxUploadPixels: Int = 25_000_000, largeUploadPixels: Int = 4_000_000
    ) {
        self.maxK = maxK
        self.maxUploadBytes = maxUploadBytes
        self.maxUploadPixels = maxUploadPixels
        self.largeUploadPixels = largeUploadPixels
    }
}

/// The answer to one query, shaped as the JSON API returns it.
public struct SearchResponse: Codable, Sendable, Equatable {
    /// What was searched for.
    public struct Query: Codable, Sendable, Equatable {
        /// "index" for an indexed row, "upload" for an uploaded image.
        public var kind: String
        /// The row, for an indexed query.
        public var id: Int?
        /// The class name, for a labeled indexed query.
        public var label: String?
        /// The row's source id (path), or the uploaded file's name.
        public var source: String?
        /// The decoded size of an uploaded image.
        public var width: Int?
        public var height: Int?
    }

    /// One neighbour.
    public struct Result: Codable, Sendable, Equatable {
        /// 1 for the nearest.
        public var rank: Int
        /// The row in the index; `GET /api/image/<id>` shows it.
        public var id: Int
        /// Its class name, when the set is labeled.
        public var label: String?
        /// The index's distance (squared L2 for FAISS flat L2 indexes).
        public var distance: Float
        /// Its source id (path).
        public var source: String
    }

    public var query: Query
    public var k: Int
    public var provenance: String
    public var results: [Result]
    /// The collection's generation the answer comes from (set by `SearchAPI`).
    public var generation: Int?
}

/// Answers queries by row or by image against one index and the data set behind it.
public struct SearchEngine: Sendable {
    /// The images behind the rows: ids, labels, class names, pixels.
    public let dataset: any ImageDataset
    /// How the embeddings were made, in words ("random weights (seed 0), preset cifar 32x32").
    public let provenance: String
    /// Query bounds.
    public let limits: SearchLimits
    let index: SharedIndex
    let model: QueryModel?
    /// Each row's id as answers show it: relative to the folder all ids share, so that no
    /// absolute server path leaves the server.
    let publicIds: [String]
    /// Searches through a re-ranking pipeline instead of FAISS, when set.
    let reranked: RerankedIndex?

    /// Creates an engine.
    ///
    /// - Parameters:
    ///   - index: the FAISS index over the data set's rows (row i is image i).
    ///   - dataset: the images behind the rows.
    ///   - model: embeds query images; nil disables image queries.
    ///   - provenance: how the embeddings were made, shown with every answer.
    ///   - limits: the bounds on k and uploads.
    /// - Throws: a `VectorSearchError` when the index cannot be prepared for concurrent reads.
    ///   - reranked: the index's rows prepared for a re-ranking pipeline (nil: plain FAISS search).
    public init(
        index: VectorIndex, dataset: any ImageDataset, model: QueryModel?, provenance: String,
        limits: SearchLimits = SearchLimits(), reranked: RerankedIndex? = nil
    ) throws {
        precondition(index.count == dataset.count, "index holds \(index.count) rows, the data set \(dataset.count) images")
        self.index = try SharedIndex(index)
        publicIds = Self.relativeIds(dataset.ids)
        self.dataset = dataset
        self.model = model
        self.provenance = provenance
        self.limits = limits
        self.reranked = reranked
    }

    /// The number of indexed rows.
    public var count: Int { index.count }

    /// Whether image queries are possible (a query model was given).
    public var acceptsImages: Bool { model != nil }

    /// The class name of `row`, or nil when the set is unlabeled or the row has no label (-1: an
    /// image added without one).
    public func label(of row: Int) -> String? {
        guard let labels = dataset.labels, labels.indices.contains(row) else { return nil }
        let label = labels[row]
        guard label >= 0 else { return nil }
        return dataset.classNames.indices.contains(label) ? dataset.classNames[label] : String(label)
    }

    /// Parses and bounds k: an integer in 1...maxK and at most `available` rows.
    public func validK(_ text: String?, available: Int) throws(SearchError) -> Int {
        let upper = min(limits.maxK, available)
        guard let text, let k = Int(text) else {
            throw .badRequest("k must be an integer from 1 to \(upper), got '\(text ?? "")'")
        }
        guard k >= 1, k <= upper else {
            throw .badRequest("k must be from 1 to \(upper) (index of \(count) rows, at most \(limits.maxK)), got \(k)")
        }
        return k
    }

    /// Parses and bounds a row number.
    public func validRow(_ text: String?) throws(SearchError) -> Int {
        guard let text, let row = Int(text) else {
            throw .badRequest("index must be an integer row from 0 to \(count - 1), got '\(text ?? "")'")
        }
        guard (0..<count).contains(row) else {
            throw .notFound("row \(row) is outside the index (0 to \(count - 1))")
        }
        return row
    }

    /// The `k` rows nearest indexed row `row`, the row itself left out.
    public func search(row: Int, k: Int) throws(SearchError) -> SearchResponse {
        precondition((0..<count).contains(row), "row \(row) outside 0..<\(count)")
        let vector: [Float]
        do {
            vector = try index.index.vector(row)
        } catch {
            throw .unavailable("cannot read row \(row) from the index: \(error)")
        }
        let found = try nearest(vector, k: k, excluding: row)
        let query = SearchResponse.Query(kind: "index", id: row, label: label(of: row), source: publicIds[row])
        return response(query, found, k: k)
    }

    /// The `k` rows nearest an image given as JPEG or PNG bytes.
    ///
    /// - Parameters:
    ///   - bytes: the encoded image.
    ///   - contentType: the declared Content-Type (nil when unknown), checked against the bytes.
    ///   - source: a file name for messages.
    ///   - k: how many neighbours.
    public func search(imageBytes bytes: [UInt8], contentType: String?, source: String, k: Int) throws(SearchError)
        -> SearchResponse
    {
        guard let model else {
            throw .unavailable("image queries need the embedding model; this server has none loaded")
        }
        guard bytes.count <= limits.maxUploadBytes else { throw .tooLarge(limit: limits.maxUploadBytes) }
        _ = try UploadCheck.format(contentType: contentType, bytes: bytes)
        let header: ImageDecoder.Header
        let image: RGBImage
        do {
            header = try ImageDecoder.header(of: bytes, path: source, maxPixels: limits.maxUploadPixels)
            image = try ImageDecoder.decode(
                bytes, path: source, fitting: model.embedder.preprocessing.size, maxPixels: limits.maxUploadPixels)
        } catch {
            throw .undecodable("\(error)")
        }
        let query = SearchResponse.Query(kind: "upload", source: source, width: header.width, height: header.height)
        return response(query, try nearest(model.vector(image), k: k), k: k)
    }

    /// Whether `bytes` declare a large image (`SearchLimits.largeUploadPixels`), read from the
    /// header alone; bytes without a readable header are not large (they fail fast anyway).
    public func isLargeUpload(_ bytes: [UInt8]) -> Bool {
        guard let header = try? ImageDecoder.header(of: bytes, path: "upload", maxPixels: limits.maxUploadPixels) else {
            return false
        }
        return header.width * header.height > limits.largeUploadPixels
    }

    /// Image `row` of the data set behind the index.
    public func image(row: Int) throws(SearchError) -> RGBImage {
        precondition((0..<count).contains(row), "row \(row) outside 0..<\(count)")
        do {
            return try dataset.image(at: row)
        } catch {
            throw .unavailable("cannot read image \(row) (\(publicIds[row])) on the server")
        }
    }

    func nearest(_ vector: [Float], k: Int, excluding excluded: Int? = nil) throws(SearchError) -> [VectorIndex.Hit] {
        guard vector.count == index.dimension else {
            throw .unavailable("the query embedding has \(vector.count) dimensions, the index \(index.dimension)")
        }
        if let reranked {
            do {
                return try reranked.nearest(vector, k: k, excluding: excluded)
            } catch {
                throw .unavailable("re-ranked search failed: \(error)")
            }
        }
        do {
            return try index.index.nearest(vector, k: k, excluding: excluded)
        } catch {
            throw .unavailable("search failed: \(error)")
        }
    }

    func response(_ query: SearchResponse.Query, _ found: [VectorIndex.Hit], k: Int) -> SearchResponse {
        let results = found.enumerated().map { rank, hit in
            SearchResponse.Result(
                rank: rank + 1, id: hit.id, label: label(of: hit.id), distance: hit.distance, source: publicIds[hit.id])
        }
        return SearchResponse(query: query, k: k, provenance: provenance, results: results)
    }

    /// `ids` without the longest folder prefix (ending in "/") they all share.
    static func relativeIds(_ ids: [String]) -> [String] {
        guard let first = ids.first else { return ids }
        var prefix = Substring(first[..<(first.lastIndex(of: "/").map { first.index(after: $0) } ?? first.startIndex)])
        for id in ids.dropFirst() {
            while !prefix.isEmpty, !id.hasPrefix(prefix) {
                prefix = prefix.dropLast()
                prefix = prefix[..<(prefix.lastIndex(of: "/").map { prefix.index(after: $0) } ?? prefix.startIndex)]
            }
        }
        return ids.map { String($0.dropFirst(prefix.count)) }
    }
}
