import Common
import Foundation
import ImageData

/// Turns one decoded query image into a vector comparable with the indexed rows.
///
/// Implementations apply the same preprocessing preset, weights and normalization that
/// produced the index, so an uploaded photo and an indexed image land in one space.
public protocol QueryEmbedder: Sendable {
    /// The embedding of `image` (any size, RGB), as the index stores its rows.
    func embed(_ image: RGBImage) throws -> [Float]
}

/// A k-nearest-neighbour index over the catalog's rows.
public protocol NeighborIndex: Sendable {
    /// The number of indexed rows.
    var count: Int { get }
    /// The `k` rows nearest `query`, nearest first, as (row, distance) pairs.
    func nearest(to query: [Float], k: Int) throws -> [(row: Int, distance: Float)]
}

/// What a person needs to know about each indexed row: where it came from and its class.
public struct Catalog: Sendable {
    /// One id per row (a file path, or "archive#row").
    public var ids: [String]
    /// One label per row (an index into `classNames`), or nil for an unlabeled set.
    public var labels: [Int]?
    /// Class names in label order.
    public var classNames: [String]
    /// How the embeddings were made, in words ("ResNet18, random weights, preset cifar").
    public var provenance: String

    public init(ids: [String], labels: [Int]?, classNames: [String], provenance: String) {
        precondition(labels.map { $0.count == ids.count } ?? true, "\(labels?.count ?? 0) labels for \(ids.count) ids")
        self.ids = ids
        self.labels = labels
        self.classNames = classNames
        self.provenance = provenance
    }

    /// The class name of `row`, or nil when the set is unlabeled or the label has no name.
    public func label(of row: Int) -> String? {
        guard let labels, labels.indices.contains(row) else { return nil }
        let label = labels[row]
        return classNames.indices.contains(label) ? classNames[label] : String(label)
    }
}

/// The bounds every query is checked against.
public struct SearchLimits: Sendable {
    /// The largest k a query may ask for.
    public var maxK: Int
    /// The largest upload, in bytes.
    public var maxUploadBytes: Int

    public init(maxK: Int = 50, maxUploadBytes: Int = 10 << 20) {
        self.maxK = maxK
        self.maxUploadBytes = maxUploadBytes
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
}

/// Answers queries by row or by image against one index and its catalog.
public struct SearchEngine: Sendable {
    /// Row metadata.
    public let catalog: Catalog
    /// Query bounds.
    public let limits: SearchLimits
    let index: any NeighborIndex
    let vectors: Matrix
    let embedder: (any QueryEmbedder)?
    let images: (any ImageDataset)?

    /// Creates an engine.
    ///
    /// - Parameters:
    ///   - index: the k-NN index over `vectors`' rows.
    ///   - vectors: the indexed rows, as the index holds them (row queries reuse them).
    ///   - catalog: ids, labels and class names, one per row.
    ///   - embedder: embeds uploaded images; nil disables image queries.
    ///   - images: the data set behind the rows, for thumbnails; nil disables them.
    ///   - limits: the bounds on k and uploads.
    public init(
        index: any NeighborIndex, vectors: Matrix, catalog: Catalog, embedder: (any QueryEmbedder)?,
        images: (any ImageDataset)?, limits: SearchLimits = SearchLimits()
    ) {
        precondition(index.count == vectors.rows, "index holds \(index.count) rows, vectors \(vectors.rows)")
        precondition(catalog.ids.count == vectors.rows, "\(catalog.ids.count) ids for \(vectors.rows) rows")
        self.index = index
        self.vectors = vectors
        self.catalog = catalog
        self.embedder = embedder
        self.images = images
        self.limits = limits
    }

    /// The number of indexed rows.
    public var count: Int { vectors.rows }

    /// Whether image queries are possible (an embedder was given).
    public var acceptsImages: Bool { embedder != nil }

    /// Parses and bounds k: an integer in 1...maxK and at most `available` rows.
    public func validK(_ text: String?, available: Int) throws(SearchError) -> Int {
        guard let text, let k = Int(text) else {
            throw .badRequest("k must be an integer from 1 to \(min(limits.maxK, available)), got '\(text ?? "")'")
        }
        let upper = min(limits.maxK, available)
        guard (1...max(1, upper)).contains(k), k <= available else {
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
        let found = try nearest(Array(vectors.row(row)), k: min(k + 1, count)).filter { $0.row != row }
        let query = SearchResponse.Query(
            kind: "index", id: row, label: catalog.label(of: row), source: catalog.ids[row])
        return response(query, Array(found.prefix(k)), k: k)
    }

    /// The `k` rows nearest an image given as JPEG or PNG bytes.
    ///
    /// - Parameters:
    ///   - bytes: the encoded image.
    ///   - contentType: the declared Content-Type, checked against the bytes.
    ///   - source: a file name for messages ("upload" when unknown).
    public func search(imageBytes bytes: [UInt8], contentType: String?, source: String, k: Int) throws(SearchError)
        -> SearchResponse
    {
        guard let embedder else {
            throw .unavailable("image queries need the embedding model; this index has none loaded")
        }
        guard bytes.count <= limits.maxUploadBytes else { throw .tooLarge(limit: limits.maxUploadBytes) }
        _ = try UploadCheck.format(contentType: contentType, bytes: bytes)
        let image: RGBImage
        do {
            image = try ImageDecoder.decode(bytes, path: source)
        } catch {
            throw .undecodable("\(error)")
        }
        let vector: [Float]
        do {
            vector = try embedder.embed(image)
        } catch {
            throw .undecodable("\(source): cannot embed: \(error)")
        }
        let query = SearchResponse.Query(kind: "upload", source: source, width: image.width, height: image.height)
        return response(query, try nearest(vector, k: k), k: k)
    }

    /// Image `row` of the data set behind the index.
    public func image(row: Int) throws(SearchError) -> RGBImage {
        guard let images else {
            throw .unavailable("the data set behind this index is not available, so no images can be shown")
        }
        do {
            return try images.image(at: row)
        } catch {
            throw .unavailable("cannot read image \(row) (\(catalog.ids[row])): \(error)")
        }
    }

    func nearest(_ vector: [Float], k: Int) throws(SearchError) -> [(row: Int, distance: Float)] {
        guard vector.count == vectors.columns else {
            throw .unavailable("the query embedding has \(vector.count) dimensions, the index \(vectors.columns)")
        }
        do {
            return try index.nearest(to: vector, k: k)
        } catch {
            throw .unavailable("search failed: \(error)")
        }
    }

    func response(_ query: SearchResponse.Query, _ found: [(row: Int, distance: Float)], k: Int) -> SearchResponse {
        let results = found.enumerated().map { rank, hit in
            SearchResponse.Result(
                rank: rank + 1, id: hit.row, label: catalog.label(of: hit.row), distance: hit.distance,
                source: catalog.ids[hit.row])
        }
        return SearchResponse(query: query, k: k, provenance: catalog.provenance, results: results)
    }
}
