import Foundation

/// NumPy `.npy` arrays (format 1.0, little-endian, C order) that `numpy.load` reads.
///
/// Only the element types this project stores are supported: float32 (`<f4`) and
/// int64 (`<i8`).
public enum NPY {
    /// The element types an `.npy` file may hold here.
    public enum DType: String, Sendable {
        case float32 = "<f4"
        case int64 = "<i8"

        var size: Int { self == .float32 ? 4 : 8 }
    }

    /// A decoded array: its shape and raw little-endian element bytes.
    public struct Array: Sendable {
        public let dtype: DType
        public let shape: [Int]
        public let payload: Data

        /// The elements as Float; precondition: dtype is float32.
        public var floats: [Float] {
            precondition(dtype == .float32, "array holds \(dtype.rawValue), not <f4")
            return payload.withUnsafeBytes { Swift.Array($0.bindMemory(to: Float.self)) }
        }

        /// The elements as Int; precondition: dtype is int64.
        public var ints: [Int] {
            precondition(dtype == .int64, "array holds \(dtype.rawValue), not <i8")
            return payload.withUnsafeBytes { $0.bindMemory(to: Int64.self).map { Int($0) } }
        }
    }

    /// Encodes a float32 array of the given shape.
    public static func encode(_ values: [Float], shape: [Int]) -> Data {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values do not fill shape \(shape)")
        return header(.float32, shape) + values.withUnsafeBytes { Data($0) }
    }

    /// Encodes an int64 vector.
    public static func encode(_ values: [Int]) -> Data {
        header(.int64, [values.count]) + values.map { Int64($0) }.withUnsafeBytes { Data($0) }
    }

    /// Writes a float32 array atomically.
    public static func write(_ values: [Float], shape: [Int], to path: String) throws {
        try AtomicFile.write(encode(values, shape: shape), to: path)
    }

    /// Writes an int64 vector atomically.
    public static func write(_ values: [Int], to path: String) throws {
        try AtomicFile.write(encode(values), to: path)
    }

    /// What a reader needs an `.npy` file to hold, checked from the header before the elements are read.
    public struct Expected: Sendable {
        public let dtype: DType
        /// The shape, `nil` where any length is accepted.
        public let shape: [Int?]
        /// What the array is, for the message when it is something else ("one cluster per index row").
        public let meaning: String

        public init(_ dtype: DType, shape: [Int?], meaning: String) {
            self.dtype = dtype
            self.shape = shape
            self.meaning = meaning
        }

        func check(_ header: Header, path: String) throws {
            let matches =
                header.dtype == dtype && header.shape.count == shape.count
                && zip(header.shape, shape).allSatisfy { $1 == nil || $0 == $1 }
            guard matches else {
                let wanted = "[" + shape.map { $0.map(String.init) ?? "N" }.joined(separator: ", ") + "]"
                throw FileError(
                    path, "holds \(header.dtype.rawValue) \(header.shape), expected \(dtype.rawValue) \(wanted): \(meaning)",
                    kind: .wrongShape)
            }
        }
    }

    /// Reads and validates an `.npy` file.
    ///
    /// Only the header is read before the checks: the file must be a regular file exactly as
    /// long as its shape says and hold what `expected` asks, so a damaged or hostile file is
    /// refused before its elements are allocated.
    public static func read(_ path: String, expected: Expected? = nil) throws -> Array {
        let file = try RegularFile(path)
        let header = try Header(of: file, expected: expected)
        var payload = Data(count: header.byteCount)
        try payload.withUnsafeMutableBytes { try file.read(into: $0, at: header.dataOffset) }
        return Array(dtype: header.dtype, shape: header.shape, payload: payload)
    }

    /// Decodes `.npy` bytes that must hold what `expected` asks; `path` only names the source in errors.
    public static func decode(_ data: Data, path: String, expected: Expected? = nil) throws -> Array {
        let header = try Header([UInt8](data.prefix(Header.maximumLength)), path: path)
        try expected?.check(header, path: path)
        try header.checkLength(data.count, path: path)
        return Array(dtype: header.dtype, shape: header.shape, payload: Data(elements(of: data, header)))
    }

    /// The element bytes of `data`, an `.npy` file whose header is `header` (a slice, not a copy).
    public static func elements(of data: Data, _ header: Header) -> Data.SubSequence {
        data[(data.startIndex + header.dataOffset)...]
    }

    /// The header of an `.npy` file: element type, shape, and where the elements start.
    public struct Header: Sendable {
        public let dtype: DType
        public let shape: [Int]
        /// The byte offset of the first element.
        public let dataOffset: Int
        /// The bytes the elements take.
        public let byteCount: Int

        /// Parses the header at the start of `bytes` (which may stop anywhere after it);
        /// `path` only names the source in errors.
        public init(_ bytes: [UInt8], path: String) throws {
            guard bytes.count >= 10, bytes[0] == 0x93, Swift.Array(bytes[1...5]) == Swift.Array("NUMPY".utf8) else {
                throw FileError(path, "not a .npy file (bad magic)")
            }
            let major = bytes[6]
            let headerLength: Int
            let headerStart: Int
            switch major {
            case 1:
                headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
                headerStart = 10
            case 2, 3:
                guard bytes.count >= 12 else { throw FileError(path, "truncated .npy header", kind: .truncated) }
                headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
                headerStart = 12
            default:
                throw FileError(path, "unsupported .npy version \(major)")
            }
            guard bytes.count >= headerStart + headerLength,
                let header = String(bytes: bytes[headerStart..<headerStart + headerLength], encoding: .ascii)
            else { throw FileError(path, "truncated .npy header", kind: .truncated) }
            guard let descr = NPY.field("descr", in: header), let dtype = DType(rawValue: descr) else {
                throw FileError(
                    path,
                    "unsupported dtype in header \(header.trimmingCharacters(in: .whitespacesAndNewlines)); expected <f4 or <i8")
            }
            guard NPY.field("fortran_order", in: header) == "False" else {
                throw FileError(path, "Fortran-ordered arrays are not supported")
            }
            guard let shapeText = NPY.field("shape", in: header) else { throw FileError(path, "no shape in .npy header") }
            let shape = try shapeText.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
            .map { part -> Int in
                guard let n = Int(part), n >= 0 else { throw FileError(path, "bad shape \(shapeText)") }
                return n
            }
            guard let expected = ArrayShape.byteCount(shape, elementSize: dtype.size) else {
                throw FileError(path, "shape \(shape) is too large to hold in memory", kind: .tooLarge)
            }
            self.dtype = dtype
            self.shape = shape
            self.dataOffset = headerStart + headerLength
            self.byteCount = expected
        }

        /// The header of the `.npy` file open as `file`, checked against `expected` and against the
        /// file's length before any element is read.
        public init(of file: RegularFile, expected: Expected?) throws {
            try self.init(try file.bytes(0..<min(file.size, Self.maximumLength)), path: file.path)
            try expected?.check(self, path: file.path)
            try checkLength(file.size, path: file.path)
        }

        /// Throws unless a file of `fileBytes` bytes holds exactly this header and its elements.
        public func checkLength(_ fileBytes: Int, path: String) throws {
            let data = fileBytes - dataOffset
            guard data != byteCount else { return }
            guard data > byteCount else {
                throw FileError(
                    path, "truncated: holds \(max(data, 0)) data bytes, shape \(shape) needs \(byteCount)", kind: .truncated)
            }
            throw FileError(
                path,
                "holds \(data - byteCount) bytes more than shape \(shape) needs (\(byteCount)): not one array as numpy.save writes it"
            )
        }

        /// The most bytes a header may take before the elements (format 2.0 allows 4 GiB; real
        /// headers are a few hundred bytes).
        public static let maximumLength = 65_536
    }

    private static func header(_ dtype: DType, _ shape: [Int]) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var text = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + text.utf8.count + 1
        text += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Swift.Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(text.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xff), UInt8(length >> 8)])
        data.append(contentsOf: Swift.Array(text.utf8))
        return data
    }

    /// The value text of `'key': value` in a header dict (a quoted string, a word, or a tuple).
    private static func field(_ key: String, in header: String) -> String? {
        guard let range = header.range(of: "'\(key)':") else { return nil }
        let rest = header[range.upperBound...].drop { $0 == " " }
        if rest.first == "'" {
            return String(rest.dropFirst().prefix { $0 != "'" })
        }
        if rest.first == "(" {
            return String(rest.dropFirst().prefix { $0 != ")" })
        }
        return String(rest.prefix { $0 != "," && $0 != "}" }).trimmingCharacters(in: .whitespaces)
    }
}
