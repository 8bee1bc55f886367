import Foundation
import ImageData

/// Checks that an upload declares and carries a JPEG or PNG image.
public enum UploadCheck {
    /// The Content-Type values an upload may declare (besides none at all).
    static let acceptedTypes: Set<String> = [
        "application/octet-stream", "image/jpeg", "image/jpg", "image/pjpeg", "image/png",
    ]

    /// Checks a declared content type and the bytes behind it, returning the format.
    ///
    /// A missing content type, `application/octet-stream`, or a JPEG or PNG image type is
    /// accepted when the bytes carry a JPEG or PNG signature; anything else is refused
    /// as unsupported media.
    public static func format(contentType: String?, bytes: [UInt8]) throws(SearchError) -> ImageDecoder.Format {
        if let contentType {
            let declared = mediaType(of: contentType)
            guard acceptedTypes.contains(declared) else {
                throw .unsupportedMediaType("content type '\(declared)' is not accepted: send a JPEG or PNG image")
            }
        }
        guard let format = ImageDecoder.format(of: bytes) else {
            throw .unsupportedMediaType("the upload is not a JPEG or PNG image (unrecognized leading bytes)")
        }
        return format
    }

    /// The lowercased media type of a Content-Type value, without its parameters.
    public static func mediaType(of contentType: String) -> String {
        let head = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return head.trimmingCharacters(in: .whitespaces).lowercased()
    }
}
