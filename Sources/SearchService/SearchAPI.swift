import Foundation
import Hummingbird
import ImageData

/// The HTTP face of a `SearchEngine`: the web page and its JSON API.
///
/// Routes:
/// - `GET /`: the search page.
/// - `GET /api/info`: row count, k bounds, class names, provenance.
/// - `GET /api/search?index=N&k=K`: neighbours of indexed row N (itself left out).
/// - `POST /api/search?k=K`: neighbours of an uploaded JPEG or PNG, sent as the raw body
///   (Content-Type `image/jpeg`, `image/png` or `application/octet-stream`) or as the
///   multipart/form-data field `image`.
/// - `GET /api/image/N`: row N's image as PNG.
///
/// Every error is a JSON body `{"error": "...", "status": N}` with a 4xx or 5xx status.
public enum SearchAPI {
    /// Room for multipart headers and delimiters on top of the upload cap.
    static let multipartOverhead = 64 << 10

    /// A router serving `engine`.
    public static func router(engine: SearchEngine) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: JSONErrorMiddleware())
        router.get("/") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: WebPage.html)))
        }
        router.get("/api/info") { _, _ in
            try json(Info(engine: engine))
        }
        router.get("/api/search") { request, _ in
            let parameters = request.uri.queryParameters
            let row = try engine.validRow(parameters.get("index"))
            let k = try engine.validK(parameters.get("k") ?? "5", available: engine.count - 1)
            return try json(engine.search(row: row, k: k))
        }
        router.post("/api/search") { request, _ in
            let k = try engine.validK(request.uri.queryParameters.get("k") ?? "5", available: engine.count)
            let upload = try await self.upload(request, limit: engine.limits.maxUploadBytes)
            return try json(engine.search(imageBytes: upload.bytes, contentType: upload.contentType, source: upload.name, k: k))
        }
        router.get("/api/image/{id}") { _, context in
            let row = try engine.validRow(context.parameters.get("id"))
            let png = try PNGEncoder.encode(try engine.image(row: row))
            return Response(
                status: .ok,
                headers: [.contentType: "image/png", .cacheControl: "public, max-age=86400"],
                body: .init(byteBuffer: ByteBuffer(bytes: png)))
        }
        return router
    }

    /// An uploaded image's bytes, its declared type and a name for messages.
    struct Upload {
        var bytes: [UInt8]
        var contentType: String?
        var name: String
    }

    /// Reads the upload from a raw body or from the multipart field `image`, within `limit` bytes.
    static func upload(_ request: Request, limit: Int) async throws(SearchError) -> Upload {
        let contentType = request.headers[.contentType]
        let boundary = contentType.flatMap { Multipart.boundary(contentType: $0) }
        let cap = limit + (boundary == nil ? 0 : multipartOverhead)
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > cap {
            throw .tooLarge(limit: limit)
        }
        let body: [UInt8]
        do {
            var buffer = try await request.body.collect(upTo: cap)
            body = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw .tooLarge(limit: limit)
        } catch {
            throw .badRequest("cannot read the request body: \(error)")
        }
        guard let boundary else {
            guard !body.isEmpty else { throw .badRequest("the request body is empty: send a JPEG or PNG image") }
            return Upload(bytes: body, contentType: contentType, name: "upload")
        }
        guard let part = try Multipart.parts(of: body, boundary: boundary).first(where: { $0.name == "image" }) else {
            throw .badRequest("the multipart body has no 'image' field")
        }
        guard part.body.count <= limit else { throw .tooLarge(limit: limit) }
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

        init(engine: SearchEngine) {
            count = engine.count
            maxK = min(engine.limits.maxK, engine.count - 1)
            maxUploadBytes = engine.limits.maxUploadBytes
            acceptsImages = engine.acceptsImages
            classNames = engine.dataset.classNames
            provenance = engine.provenance
        }
    }

    /// A JSON response with `status`.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
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
