/// Why the search service refused or could not answer a request.
///
/// Each case maps to one HTTP status, so the command line and the web API report the
/// same problem in the same words.
public enum SearchError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A query parameter or request body is malformed (400).
    case badRequest(String)
    /// A row or route that does not exist (404).
    case notFound(String)
    /// The upload is larger than the cap (413).
    case tooLarge(limit: Int)
    /// The upload is not a JPEG or PNG image (415).
    case unsupportedMediaType(String)
    /// The image could not be decoded or embedded (422); the message names its source.
    case undecodable(String)
    /// The collection changed since the request's answer was made (409).
    case changed(String)
    /// The server has no data for this request, e.g. no image source (503).
    case unavailable(String)

    public var description: String {
        switch self {
        case .badRequest(let message), .notFound(let message), .unsupportedMediaType(let message),
            .undecodable(let message), .unavailable(let message), .changed(let message):
            message
        case .tooLarge(let limit):
            "the upload is larger than the \(limit)-byte limit"
        }
    }

    /// The HTTP status code this error is answered with.
    public var statusCode: Int {
        switch self {
        case .badRequest: 400
        case .notFound: 404
        case .tooLarge: 413
        case .unsupportedMediaType: 415
        case .changed: 409
        case .undecodable: 422
        case .unavailable: 503
        }
    }
}
