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
public enum Multipart {
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
    /// Throws `.badRequest` when the boundary never appears, the closing delimiter is
    /// missing, or a part has no header block or no field name.
    public static func parts(of body: [UInt8], boundary: String) throws(SearchError) -> [MultipartPart] {
        let delimiter = Array("--\(boundary)".utf8)
        var starts = ranges(of: delimiter, in: body)
        guard !starts.isEmpty else { throw .badRequest("multipart body has no '--\(boundary)' delimiter") }
        var parts: [MultipartPart] = []
        while starts.count >= 2 {
            let open = starts.removeFirst()
            let close = starts[0]
            // A part runs from after the delimiter's CRLF to before the next delimiter's CRLF.
            var from = open.upperBound
            if body[from..<min(from + 2, body.count)].elementsEqual([13, 10]) { from += 2 }
            var to = close.lowerBound
            if to >= from + 2, body[to - 2..<to].elementsEqual([13, 10]) { to -= 2 }
            parts.append(try part(Array(body[from..<max(from, to)])))
        }
        guard let last = starts.first, body[last.upperBound...].starts(with: [45, 45]) else {
            throw .badRequest("multipart body has no closing '--\(boundary)--' delimiter")
        }
        return parts
    }

    /// Parses one part: headers, a blank line, then the content.
    static func part(_ bytes: [UInt8]) throws(SearchError) -> MultipartPart {
        guard let split = ranges(of: [13, 10, 13, 10], in: bytes).first else {
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

    /// Every non-overlapping occurrence of `needle` in `haystack`, in order.
    static func ranges(of needle: [UInt8], in haystack: [UInt8]) -> [Range<Int>] {
        guard !needle.isEmpty, haystack.count >= needle.count else { return [] }
        var found: [Range<Int>] = []
        var i = 0
        let first = needle[0]
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first, haystack[i..<i + needle.count].elementsEqual(needle) {
                found.append(i..<i + needle.count)
                i += needle.count
            } else {
                i += 1
            }
        }
        return found
    }
}
