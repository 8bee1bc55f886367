/// Part `index` of `count` equal parts of a data set ("2/4" on the command line, counting from 0).
///
/// Part i holds rows `i * n / count ..< (i + 1) * n / count` of n rows: consecutive, equal to
/// within one row, the same on every machine, and together in order exactly the whole set.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// Throws unless `0 <= index < count`.
    public init(index: Int, count: Int) throws(ShardError) {
        guard count > 0 else { throw ShardError("the number of shards must be positive, got \(count)") }
        guard (0..<count).contains(index) else {
            throw ShardError("shard \(index)/\(count) is not one of 0/\(count) to \(count - 1)/\(count)")
        }
        self.index = index
        self.count = count
    }

    /// Parses "I/N".
    public init(_ text: String) throws(ShardError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw ShardError("a shard is written I/N (part I of N, from 0), not \(text)")
        }
        try self.init(index: index, count: count)
    }

    public var description: String { "\(index)/\(count)" }

    /// The rows of this part of a set of `total` rows.
    ///
    /// The products are taken at double width, so no set size overflows them.
    public func rows(of total: Int) -> Range<Int> {
        precondition(total >= 0, "a set of \(total) rows")
        func boundary(_ part: Int) -> Int { count.dividingFullWidth(part.multipliedFullWidth(by: total)).quotient }
        return boundary(index)..<boundary(index + 1)
    }
}

/// A shard written wrongly or out of range.
public struct ShardError: Error, CustomStringConvertible, Equatable {
    public let description: String

    init(_ description: String) { self.description = description }
}

extension Shard: Codable {
    /// Decodes "I/N"; anything else is a `DecodingError` that names the field.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        do {
            try self.init(try container.decode(String.self))
        } catch let error as ShardError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    /// Encodes "I/N".
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
