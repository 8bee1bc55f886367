import CollectionStore
import Foundation
import Hummingbird
import NIOCore
import VectorSearch

/// The audit routes of `SearchAPI`:
/// - `GET /audit`: the audit page.
/// - `GET /api/audit?view=duplicates|labels&page=P&per=N`: one page of duplicate pairs (tier,
///   thumbnail and network distances, both images) or of label-issue candidates (given and
///   suggested label, score, the neighbors that carry the suggested label), with each image's mark.
///   The audit is made on the first request of a generation (for 50,000 images, several minutes:
///   the thumbnails' four views are searched exactly, as `pic2vec duplicates` does).
/// - `POST /api/audit/marks` with `{"row": N, "mark": "keep"|"duplicate"|"wrong-label"|null,
///   "generation": G}`: sets or clears row N's mark (409 when the collection has left generation G);
///   the marks file is rewritten atomically.
/// - `GET /api/audit/marks`: every mark, as saved (`AuditMarks`), as a download.
extension SearchAPI {
    /// One image on the audit page.
    struct AuditImage: Codable, Sendable {
        var row: Int
        var path: String
        var label: String?
        var mark: AuditMarks.Mark?
    }

    /// One duplicate pair on the audit page.
    struct AuditPair: Codable, Sendable {
        var tier: DuplicateTier
        var pixelDistance: Float
        var networkDistance: Float
        var images: [AuditImage]
    }

    /// One label-issue candidate on the audit page.
    struct AuditLabelIssue: Codable, Sendable {
        var image: AuditImage
        var suggested: String
        var score: Double
        var neighbors: [AuditImage]
    }

    /// One page of the audit.
    struct AuditAnswer: Codable, Sendable {
        var view: String
        var generation: Int
        var total: Int
        var page: Int
        var per: Int
        /// Pairs per tier over the whole collection.
        var tiers: [String: Int]
        var labelsChecked: Bool
        var pairs: [AuditPair]?
        var labelIssues: [AuditLabelIssue]?
    }

    /// A mark sent by the page.
    struct MarkRequest: Codable, Sendable {
        var row: Int
        var mark: AuditMarks.Mark?
        var generation: Int
    }

    /// Adds the audit routes over `collection`, marks kept by `desk`.
    static func addAuditRoutes(to router: Router<BasicRequestContext>, _ collection: LiveCollection, desk: AuditDesk) {
        let lane = BlockingWork(label: "pic2vec.audit")
        router.get("/audit") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: AuditPage.html)))
        }
        router.get("/api/audit") { request, _ in
            let state = collection.current, engine = state.engine
            let parameters = request.uri.queryParameters
            let view = parameters.get("view") ?? "duplicates"
            guard view == "duplicates" || view == "labels" else {
                throw SearchError.badRequest("view must be duplicates or labels, got '\(view)'")
            }
            let page = try number(parameters.get("page"), default: 0, range: 0...Int.max, name: "page")
            let per = try number(parameters.get("per"), default: 12, range: 1...100, name: "per")
            let audit = try await lane.run { () throws(SearchError) -> CollectionAudit in
                do { return try desk.audit(of: state) } catch { throw .unavailable("the audit could not be made: \(error)") }
            }
            let image = { (row: Int) in
                AuditImage(
                    row: row, path: engine.publicIds[row], label: engine.label(of: row),
                    mark: desk.mark(of: engine.dataset.ids[row]))
            }
            // No multiplication that a huge page number could overflow.
            let window = { (total: Int) -> Range<Int> in
                let start = page > total / per ? total : min(page * per, total)
                return start..<min(start + per, total)
            }
            var answer = AuditAnswer(
                view: view, generation: state.generation, total: 0, page: page, per: per,
                tiers: Dictionary(grouping: audit.pairs, by: \.tier.rawValue).mapValues(\.count),
                labelsChecked: audit.labelIssues != nil)
            if view == "duplicates" {
                answer.total = audit.pairs.count
                answer.pairs = audit.pairs[window(audit.pairs.count)].map {
                    AuditPair(
                        tier: $0.tier, pixelDistance: $0.pixelDistance, networkDistance: $0.networkDistance,
                        images: [image($0.a), image($0.b)])
                }
            } else {
                let issues = audit.labelIssues ?? []
                answer.total = issues.count
                answer.labelIssues = issues[window(issues.count)].map {
                    AuditLabelIssue(
                        image: image($0.row), suggested: $0.suggested, score: $0.score,
                        neighbors: $0.neighbors.prefix(6).map(image))
                }
            }
            return try json(answer)
        }
        router.post("/api/audit/marks") { request, _ in
            let state = collection.current, engine = state.engine
            let body = try await request.body.collect(upTo: 4096)
            let asked: MarkRequest
            do {
                asked = try JSONDecoder().decode(MarkRequest.self, from: Data(buffer: body))
            } catch {
                throw SearchError.badRequest(
                    "the body must be {\"row\": N, \"mark\": \"keep\"|\"duplicate\"|\"wrong-label\"|null, \"generation\": G}")
            }
            guard asked.generation == state.generation else {
                throw SearchError.changed(
                    "the collection changed (generation \(asked.generation) is now \(state.generation)): reload the audit")
            }
            let row = try engine.validRow(String(asked.row))
            do {
                try desk.setMark(asked.mark, of: engine.dataset.ids[row])
            } catch {
                throw SearchError.unavailable("cannot save the marks to \(desk.files.auditMarksPath): \(error)")
            }
            return try json(AuditImage(row: row, path: engine.publicIds[row], label: engine.label(of: row), mark: asked.mark))
        }
        router.get("/api/audit/marks") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json", .contentDisposition: "attachment; filename=\"audit-marks.json\""],
                body: .init(byteBuffer: ByteBuffer(bytes: try jsonBytes(desk.saved))))
        }
    }

    /// The whole number in `text` (or `default` when absent) within `range`.
    private static func number(_ text: String?, default value: Int, range: ClosedRange<Int>, name: String) throws(SearchError)
        -> Int
    {
        guard let text else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw .badRequest("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return number
    }
}
