import Foundation

/// Small JSON files from outside (index descriptions, sidecars, cache headers), read with the
/// regular-file and size checks and decoded with messages that name the field at fault.
public enum JSONFile {
    /// The largest JSON file read (1 MiB): the project's descriptions take a few hundred bytes.
    public static let maximumBytes = 1 << 20

    /// `value` as the project writes JSON documents (descriptions, sidecars, cache headers,
    /// reports): pretty-printed, keys sorted, so that files compare and diff line by line.
    public static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(value)
    }

    /// The file at `path` decoded as `T`, or nil when there is no file there; `kind` names
    /// what the file should be ("index description") in the messages.
    public static func read<T: Decodable>(_ type: T.Type, from path: String, kind: String) throws -> T? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try decode(type, from: RegularFile.contents(path, maxBytes: maximumBytes, kind: kind), path: path, kind: kind)
    }

    /// `bytes` (the file at `path`, named in messages) decoded as `T`.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], path: String, kind: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw FileError(path, "not a valid \(kind): \(explain(error, in: Data(bytes)))")
        }
    }

    /// The fields of the parsed JSON `object` holding negative or fractional numbers, as `"name": value`.
    ///
    /// Foundation reports such a number in a field of unsigned or whole type as "not valid
    /// JSON" without naming the field, so valid JSON is searched for the likely culprits.
    private static func unusualNumbers(in object: Any) -> [String] {
        var found: [String] = []
        func visit(_ value: Any, _ path: String) {
            if let dictionary = value as? [String: Any] {
                for key in dictionary.keys.sorted() { visit(dictionary[key]!, path.isEmpty ? key : path + "." + key) }
            } else if let array = value as? [Any] {
                for (i, element) in array.enumerated() { visit(element, path + "[\(i)]") }
            } else if let number = value as? NSNumber,
                number.doubleValue < 0 || number.doubleValue.rounded() != number.doubleValue
            {
                found.append("\"\(path)\": \(number)")
            }
        }
        visit(object, "")
        return found
    }

    /// A one-line account of a decoding error: the field and what is wrong with it.
    static func explain(_ error: DecodingError, in json: Data) -> String {
        func field(_ path: [any CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "\"\(field(context.codingPath))\" must be \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\"\(field(context.codingPath))\" must be \(typeName(type)), not null"
        case .keyNotFound(let key, let context):
            return "\"\(field(context.codingPath + [key]))\" is missing"
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            guard let object = try? JSONSerialization.jsonObject(with: json) else { return "not valid JSON" }
            let suspects = unusualNumbers(in: object)
            return suspects.isEmpty
                ? "a value does not fit its field"
                : "a number does not fit its field (one of \(suspects.joined(separator: ", ")))"
        case .dataCorrupted(let context):
            return "\"\(field(context.codingPath))\": \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is UInt64.Type, is UInt.Type: "a non-negative whole number"
        case is Int.Type, is Int64.Type: "a whole number"
        case is Double.Type, is Float.Type: "a number"
        default: "\(type)"
        }
    }
}
