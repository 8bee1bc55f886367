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
    public func finalize() -> String { hasher.hexDigest }

    /// The SHA-256 of a whole file, read in 1 MiB chunks.
    public static func ofFile(_ path: String) throws -> String {
        try SHA256.hexDigest(ofFile: path)
    }
}

extension HashFunction {
    /// The digest of what has been fed so far, as lowercase hex.
    var hexDigest: String { finalize().map { String(format: "%02x", $0) }.joined() }

    /// The digest of a whole file, read in 1 MiB chunks, as lowercase hex.
    static func hexDigest(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw FileError(path, "cannot open file") }
        defer { try? handle.close() }
        var hasher = Self()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.hexDigest
    }
}
