import Crypto
import Foundation

/// SHA-256 fingerprints of files and byte streams, as lowercase hex.
public struct Fingerprint {
    private var hasher = SHA256()

    public init() {}

    /// Feeds bytes into the fingerprint.
    public mutating func update<Bytes: DataProtocol>(_ bytes: Bytes) { hasher.update(data: bytes) }

    /// Feeds a string (UTF-8) into the fingerprint.
    public mutating func update(_ text: String) { hasher.update(data: Data(text.utf8)) }

    /// The hex digest.
    public func finalize() -> String { hasher.finalize().map { String(format: "%02x", $0) }.joined() }

    /// The SHA-256 of a whole file, read in 1 MiB chunks.
    public static func ofFile(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw FileError(path, "cannot open file") }
        defer { try? handle.close() }
        var print = Fingerprint()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { print.update(chunk) }
        return print.finalize()
    }
}
