import Common

/// A NumPy array read back from a pickle: shape, element type and raw C-order bytes.
///
/// NumPy pickles an array as `numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')`
/// followed by `BUILD` with `(version, shape, dtype, is_fortran, raw_bytes)`; load such a
/// pickle with `Pickle.numpyGlobals` as the allowlist, then pass the array's value here.
public struct PickledArray: Sendable {
    /// The array's shape.
    public let shape: [Int]
    /// The element type without byte order, as NumPy spells it: "u1", "i8", "f4", ...
    public let dtype: String
    /// The elements in C order, little-endian.
    public let bytes: [UInt8]

    /// Rebuilds the array from its pickled value; errors name `path`.
    public init(_ value: PickleValue?, path: String) throws {
        func fail(_ problem: String) -> FileError { FileError(path, "pickled NumPy array: \(problem)") }
        guard case .object(let object)? = value else { throw fail("expected an ndarray, found \(value?.kind ?? "nothing")") }
        // _reconstruct + BUILD (protocols 2-4) or _frombuffer(bytes, dtype, shape, order) (protocol 5).
        let fields: (shape: PickleValue, dtype: PickleValue, order: Bool, raw: PickleValue)
        if object.type.hasSuffix("multiarray._reconstruct") {
            guard let state = object.state?.elements, state.count == 5 else { throw fail("unexpected state") }
            fields = (state[1], state[2], state[3].int != 0, state[4])
        } else if object.type.hasSuffix("numeric._frombuffer"), object.arguments.count == 4 {
            fields = (object.arguments[2], object.arguments[1], object.arguments[3].text == "F", object.arguments[0])
        } else {
            throw fail("expected an ndarray, found \(object.type)")
        }
        guard let dims = fields.shape.elements, case let shape = dims.compactMap(\.int), shape.count == dims.count,
            shape.allSatisfy({ $0 >= 0 })
        else { throw fail("bad shape") }
        guard case .object(let dtypeObject) = fields.dtype, dtypeObject.type == "numpy.dtype",
            let name = dtypeObject.arguments.first?.text
        else { throw fail("bad dtype") }
        let order = dtypeObject.state?.elements?.dropFirst().first?.text ?? "|"
        guard order != ">" else { throw fail("big-endian \(name) is not supported") }
        guard !fields.order else { throw fail("Fortran-ordered arrays are not supported") }
        guard case .bytes(let raw) = fields.raw else { throw fail("raw data is \(fields.raw.kind), not bytes") }
        guard let size = Int(name.dropFirst()), "uifb".contains(name.prefix(1)) else { throw fail("unsupported dtype \(name)") }
        guard let expected = ArrayShape.byteCount(shape, elementSize: size) else { throw fail("shape \(shape) is too large") }
        guard raw.count == expected else { throw fail("holds \(raw.count) bytes, shape \(shape) of \(name) needs \(expected)") }
        self.shape = shape
        self.dtype = name
        self.bytes = raw
    }

    /// The elements as Int, for integer arrays of any width.
    public var integers: [Int]? {
        guard let size = Int(dtype.dropFirst()), dtype.first == "i" || dtype.first == "u" else { return nil }
        let signed = dtype.first == "i"
        return stride(from: 0, to: bytes.count, by: size).map { start in
            var value: UInt64 = 0
            for k in (0..<size).reversed() { value = value << 8 | UInt64(bytes[start + k]) }
            if signed, size < 8, value & (1 << (8 * UInt64(size) - 1)) != 0 { value |= ~0 << (8 * UInt64(size)) }
            return Int(Int64(bitPattern: value))
        }
    }
}

extension Pickle {
    /// The globals a NumPy array pickle needs: `_reconstruct`, `_frombuffer`, `ndarray`, `dtype`, and
    /// `_codecs.encode` (how protocol 2 stores bytes written by Python 3).
    public static let numpyGlobals: [String: Constructor] = [
        "numpy.core.multiarray._reconstruct": record("numpy.core.multiarray._reconstruct"),
        "numpy._core.multiarray._reconstruct": record("numpy._core.multiarray._reconstruct"),
        "numpy._core.numeric._frombuffer": record("numpy._core.numeric._frombuffer"),
        "numpy.core.numeric._frombuffer": record("numpy.core.numeric._frombuffer"),
        "numpy.ndarray": record("numpy.ndarray"),
        "numpy.dtype": record("numpy.dtype"),
        "_codecs.encode": latin1Encode,
    ]

    /// `_codecs.encode(text, "latin1")`: each character of `text` becomes one byte.
    private static func latin1Encode(_ arguments: [PickleValue]) throws -> PickleValue {
        guard arguments.count == 2, case .string(let text) = arguments[0], let encoding = arguments[1].text,
            ["latin1", "latin-1"].contains(encoding.lowercased())
        else { throw PickleError("_codecs.encode is only supported as encode(str, 'latin1')") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            guard scalar.value < 256 else { throw PickleError("character U+\(String(scalar.value, radix: 16)) is not Latin-1") }
            bytes.append(UInt8(scalar.value))
        }
        return .bytes(bytes)
    }
}
