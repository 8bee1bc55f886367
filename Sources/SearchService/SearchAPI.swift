import Foundation
import Hummingbird
import HummingbirdCore
import ImageData
import NIOCore

/// The HTTP face of a `SearchEngine`: the web page and its JSON API.
///
/// Routes:
/// - `GET /`: the search page.
/// - `GET /api/info`: row count, k bounds, class names, provenance.
/// - `GET /api/search?index=N&k=K`: neighbours of indexed row N (itself left out).
/// - `POST /api/search?k=K`: neighbours of an uploaded JPEG or PNG, sent as the raw body
///   (Content-Type `image/jpeg`, `image/png` or `application/octet-stream`) or as the
///   multipart/form-data field `image`.
/// - `GET /api/image/N[?generation=G]`: row N's image as PNG (409 when the collection is no
///   longer at generation G).
/// - `GET /api/map`: the map of the collection, binary (see `CollectionMap.encoded`); 404
///   with `SearchSetup.mapHint` when the index has none. `/api/info` says how many points.
/// - With an `AuditDesk`: `GET /audit` and `/api/audit...` (see `SearchAPI+Audit.swift`).
///
/// Every error is a JSON body `{"error": "...", "status": N}` with a 4xx or 5xx status.
public enum SearchAPI {
    /// Room for multipart headers and delimiters on top of the upload cap.
    static let multipartOverhead = 64 << 10

    /// How long a connection may stay without a complete request part (a header never
    /// finished, an idle keep-alive) before the server closes it.
    public static let idleTimeout = TimeAmount.seconds(30)

    /// The HTTP/1.1 server `pic2vec serve` runs: connections idle for `idleTimeout` are closed.
    public static func httpServer(idleTimeout: TimeAmount = idleTimeout) -> HTTPServerBuilder {
        .http1(configuration: .init(idleTimeout: idleTimeout))
    }

    /// Serves `collection` on `host`:`port` (0: any free port) until the process is stopped;
    /// `onRunning` gets the bound port once the server listens.
    ///
    /// The whole server as `pic2vec serve` runs it, so that callers need no web framework.
    public static func serve(
        _ collection: LiveCollection, audit: AuditDesk? = nil, host: String, port: Int,
        onRunning: @escaping @Sendable (Int) -> Void
    ) async throws {
        let app = Application(
            router: router(collection, audit: audit), server: httpServer(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "pic2vec"),
            onServerRunning: { channel in onRunning(channel.localAddress?.port ?? 0) })
        try await app.runService()
    }

    /// A router serving `engine` and, when given, the map of its rows.
    public static func router(engine: SearchEngine, map: CollectionMap? = nil) -> Router<BasicRequestContext> {
        router(LiveCollection(LiveCollection.State(engine: engine, map: map, generation: 0)))
    }

    /// A router serving the generation of `collection` current when each request arrives, and the
    /// audit routes when `audit` is given (`SearchAPI+Audit.swift`).
    ///
    /// Answers carry that generation; `GET /api/image/N?generation=G` refuses (409) when the
    /// collection has moved on from G, since row N may be another image now.
    public static func router(_ collection: LiveCollection, audit: AuditDesk? = nil) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: JSONErrorMiddleware())
        if let audit { addAuditRoutes(to: router, collection, desk: audit) }
        // The page carries /api/info's answer, so its first search starts without a round trip.
        router.get("/") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: try WebPage.html(info: Info(collection.current)))))
        }
        router.get("/api/info") { _, _ in
            try json(Info(collection.current))
        }
        router.get("/api/map") { _, _ in
            guard let mapBytes = collection.current.mapBytes else { throw SearchError.notFound(SearchSetup.mapHint) }
            return Response(
                status: .ok, headers: [.contentType: "application/octet-stream", .cacheControl: "no-cache"],
                body: .init(byteBuffer: mapBytes))
        }
        router.get("/api/search") { request, _ in
            let state = collection.current, engine = state.engine
            let parameters = request.uri.queryParameters
            let row = try engine.validRow(parameters.get("index"))
            let k = try engine.validK(parameters.get("k") ?? "5", available: engine.count - 1)
            var answer = try engine.search(row: row, k: k)
            answer.generation = state.generation
            return try json(answer)
        }
        // Decoding and embedding run on two lanes of their own, never on the threads that
        // answer every other route: large images one at a time (bounded memory), the others
        // one at a time beside them, so a small upload never waits for a large one's decode.
        let smallUploads = BlockingWork(label: "pic2vec.uploads")
        let largeUploads = BlockingWork(label: "pic2vec.large-uploads")
        router.post("/api/search") { request, _ in
            let state = collection.current, engine = state.engine
            let k = try engine.validK(request.uri.queryParameters.get("k") ?? "5", available: engine.count)
            let body = try await self.body(request, limit: engine.limits.maxUploadBytes)
            let upload = try self.upload(body)
            let lane = engine.isLargeUpload(upload.bytes) ? largeUploads : smallUploads
            var answer = try await lane.run { () throws(SearchError) -> SearchResponse in
                try engine.search(imageBytes: upload.bytes, contentType: upload.contentType, source: upload.name, k: k)
            }
            answer.generation = state.generation
            return try json(answer)
        }
        router.get("/api/image/{id}") { request, context in
            let state = collection.current, engine = state.engine
            if let asked = request.uri.queryParameters.get("generation"), asked != String(state.generation) {
                throw SearchError.changed(
                    "the collection changed (generation \(asked) is now \(state.generation)): rows may be other images; search again"
                )
            }
            let row = try engine.validRow(context.parameters.get("id"))
            let png = PNGEncoder.encode(try engine.image(row: row))
            return Response(
                status: .ok,
                headers: [.contentType: "image/png", .cacheControl: "public, max-age=86400"],
                body: .init(byteBuffer: ByteBuffer(bytes: png)))
        }
        return router
    }

    /// An uploaded image's bytes, its declared type and a name for messages.
    struct Upload: Sendable {
        var bytes: [UInt8]
        var contentType: String?
        var name: String
    }

    /// A request body read within `limit` bytes (plus room for multipart framing), with
    /// its Content-Type and, for multipart bodies, a checked boundary.
    struct Body: Sendable {
        var bytes: [UInt8]
        var contentType: String?
        var boundary: String?
        var limit: Int
    }

    /// Reads the request body, refusing it early when it is too large or its multipart
    /// boundary is longer than RFC 2046 allows.
    static func body(_ request: Request, limit: Int) async throws(SearchError) -> Body {
        let contentType = request.headers[.contentType]
        let boundary = contentType.flatMap { Multipart.boundary(contentType: $0) }
        if let boundary, boundary.utf8.count > Multipart.maximumBoundaryLength {
            throw .badRequest(
                "the multipart boundary is \(boundary.utf8.count) bytes, more than the \(Multipart.maximumBoundaryLength) RFC 2046 allows"
            )
        }
        let cap = limit + (boundary == nil ? 0 : multipartOverhead)
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > cap {
            throw .tooLarge(limit: limit)
        }
        do {
            var buffer = try await request.body.collect(upTo: cap)
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            return Body(bytes: bytes, contentType: contentType, boundary: boundary, limit: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw .tooLarge(limit: limit)
        } catch {
            throw .badRequest("cannot read the request body: \(error)")
        }
    }

    /// The upload in a raw body or in the multipart field `image`.
    static func upload(_ body: Body) throws(SearchError) -> Upload {
        guard let boundary = body.boundary else {
            guard !body.bytes.isEmpty else { throw .badRequest("the request body is empty: send a JPEG or PNG image") }
            return Upload(bytes: body.bytes, contentType: body.contentType, name: "upload")
        }
        guard let part = try Multipart.parts(of: body.bytes, boundary: boundary).first(where: { $0.name == "image" }) else {
            throw .badRequest("the multipart body has no 'image' field")
        }
        guard part.body.count <= body.limit else { throw .tooLarge(limit: body.limit) }
        guard !part.body.isEmpty else { throw .badRequest("the 'image' field is empty: choose a JPEG or PNG file") }
        return Upload(bytes: part.body, contentType: part.contentType, name: part.filename.map(safeName) ?? "upload")
    }

    /// A client-supplied file name reduced to its last path component, for messages only.
    static func safeName(_ name: String) -> String {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let printable = last.filter { !$0.isNewline && $0 != "\"" }
        return printable.isEmpty ? "upload" : String(printable.prefix(100))
    }

    /// What the page needs before its first query.
    struct Info: Codable {
        var count: Int
        var maxK: Int
        var maxUploadBytes: Int
        var acceptsImages: Bool
        var classNames: [String]
        var provenance: String
        /// The side uploads are scaled to before embedding (nil without a model).
        var inputSide: Int?
        /// The map's point and cluster counts and source, or nil without a map.
        var map: MapInfo?
        /// How to make a map, when there is none.
        var mapHint: String?
        /// The collection's generation (`IndexDescription.generation`) the answer comes from.
        var generation: Int

        struct MapInfo: Codable {
            var count: Int
            var clusters: Int
            var source: String
        }

        init(_ state: LiveCollection.State) {
            let engine = state.engine, map = state.map
            generation = state.generation
            count = engine.count
            maxK = min(engine.limits.maxK, engine.count - 1)
            maxUploadBytes = engine.limits.maxUploadBytes
            acceptsImages = engine.acceptsImages
            classNames = engine.dataset.classNames
            provenance = engine.provenance
            inputSide = engine.model?.embedder.preprocessing.size
            self.map = map.map { MapInfo(count: $0.count, clusters: $0.clusterCount, source: SearchSetup.publicName($0.source)) }
            mapHint = map == nil ? SearchSetup.mapHint : nil
        }
    }

    /// `value` as JSON, keys sorted.
    static func jsonBytes(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(value)
    }

    /// A JSON response with `status`.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try jsonBytes(value))))
    }
}

/// Turns every error below it into a JSON body `{"error": "...", "status": N}`.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    struct Body: Codable {
        var error: String
        var status: Int
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as SearchError {
            return try reply(error.description, HTTPResponse.Status(code: error.statusCode))
        } catch let error as any HTTPResponseError {
            let message = error.status == .notFound ? "no such page: \(request.uri.path)" : error.status.reasonPhrase
            return try reply(message, error.status)
        } catch {
            context.logger.error("\(request.method) \(request.uri.path): \(error)")
            return try reply("internal error: \(error)", .internalServerError)
        }
    }

    func reply(_ message: String, _ status: HTTPResponse.Status) throws -> Response {
        try SearchAPI.json(Body(error: message, status: status.code), status: status)
    }
}
