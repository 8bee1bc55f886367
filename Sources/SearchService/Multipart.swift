import Foundation

/// One part of a `multipart/form-data` body (RFC 7578).
public struct MultipartPart: Sendable, Equatable {
    /// The form field name from `Content-Disposition: form-data; name="..."`.
    public var name: String
    /// The file name the browser sent, if any.
    public var filename: String?
    /// The part's own Content-Type, if any.
    public var contentType: String?
    /// The part's bytes.
    public var body: [UInt8]

    public init(name: String, filename: String?, contentType: String?, body: [UInt8]) {
        self.name = name
        self.filename = filename
        self.contentType = contentType
        self.body = body
    }
}

/// A minimal `multipart/form-data` reader: enough for a browser's file upload.
///
/// Parsing is linear in the body: one forward scan (Knuth-Morris-Pratt) for a boundary of
/// at most 70 bytes (RFC 2046, section 5.1.1).
public enum Multipart {
    /// The longest boundary RFC 2046 allows.
    public static let maximumBoundaryLength = 70

    /// The boundary parameter of a `multipart/form-data` Content-Type, or nil when the
    /// type is something else.
    public static func boundary(contentType: String) -> String? {
        let fields = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let type = fields.first, type.lowercased() == "multipart/form-data" else { return nil }
        for field in fields.dropFirst() {
            let pair = field.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return value.isEmpty ? nil : value
        }
        return nil
    }

    /// Splits a body into its parts.
    ///
    /// Throws `.badRequest` when the boundary is longer than 70 bytes, never appears, the
    /// closing delimiter is missing, or a part has no header block or no field name.
    /// Messages never echo the boundary back.
    public static func parts(of body: [UInt8], boundary: String) throws(SearchError) -> [MultipartPart] {
        guard boundary.utf8.count <= maximumBoundaryLength else {
            throw .badRequest(
                "the multipart boundary is \(boundary.utf8.count) bytes, more than the \(maximumBoundaryLength) RFC 2046 allows")
        }
        let delimiter = Pattern(Array("--\(boundary)".utf8))
        guard var open = delimiter.firstRange(in: body[...], from: 0) else {
            throw .badRequest("the multipart body has no delimiter line of its boundary")
        }
        var parts: [MultipartPart] = []
        while !body[open.upperBound...].starts(with: [45, 45]) {
            guard let close = delimiter.firstRange(in: body[...], from: open.upperBound) else {
                throw .badRequest("the multipart body has no closing delimiter")
            }
            // A part runs from after the delimiter's CRLF to before the next delimiter's CRLF.
            var from = open.upperBound
            if body[from..<min(from + 2, body.count)].elementsEqual([13, 10]) { from += 2 }
            var to = close.lowerBound
            if to >= from + 2, body[to - 2..<to].elementsEqual([13, 10]) { to -= 2 }
            parts.append(try part(body[from..<max(from, to)]))
            open = close
        }
        return parts
    }

    /// Parses one part: headers, a blank line, then the content.
    static func part(_ bytes: ArraySlice<UInt8>) throws(SearchError) -> MultipartPart {
        guard let split = Pattern([13, 10, 13, 10]).firstRange(in: bytes, from: bytes.startIndex) else {
            throw .badRequest("multipart part has no blank line after its headers")
        }
        let headerText = String(decoding: bytes[..<split.lowerBound], as: UTF8.self)
        var name: String?
        var filename: String?
        var contentType: String?
        for line in headerText.components(separatedBy: "\r\n") {
            let pair = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            switch pair[0].lowercased() {
            case "content-disposition":
                name = parameter("name", in: pair[1])
                filename = parameter("filename", in: pair[1])
            case "content-type":
                contentType = pair[1]
            default:
                break
            }
        }
        guard let name else { throw .badRequest("multipart part has no Content-Disposition name") }
        return MultipartPart(name: name, filename: filename, contentType: contentType, body: Array(bytes[split.upperBound...]))
    }

    /// The value of `key="value"` (or `key=value`) in a header value.
    static func parameter(_ key: String, in header: String) -> String? {
        for field in header.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let pair = field.split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2, pair[0].lowercased() == key {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }
}

/// A byte string searched with Knuth-Morris-Pratt: time linear in the searched bytes,
/// whatever the pattern (a byte-by-byte compare at every position costs text x pattern).
struct Pattern {
    let bytes: [UInt8]
    /// `border[i]`: the length of the longest proper prefix of `bytes[...i]` that is also its suffix.
    let border: [Int]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        var border = [Int](repeating: 0, count: bytes.count)
        var length = 0
        for i in bytes.indices.dropFirst() {
            while length > 0, bytes[i] != bytes[length] { length = border[length - 1] }
            if bytes[i] == bytes[length] { length += 1 }
            border[i] = length
        }
        self.border = border
    }

    /// The first occurrence in `text` at or after index `start`.
    func firstRange(in text: ArraySlice<UInt8>, from start: Int) -> Range<Int>? {
        guard !bytes.isEmpty, start >= text.startIndex else { return nil }
        var matched = 0
        var i = start
        while i < text.endIndex {
            while matched > 0, text[i] != bytes[matched] { matched = border[matched - 1] }
            if text[i] == bytes[matched] { matched += 1 }
            if matched == bytes.count { return i + 1 - matched..<i + 1 }
            i += 1
        }
        return nil
    }
}
