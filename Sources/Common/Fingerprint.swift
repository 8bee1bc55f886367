import Foundation

/// SHA-256 fingerprints of files and byte streams, as lowercase hex.
public struct Fingerprint {
    private let digest = Digest(.sha256)

    public init() {}

    /// Feeds bytes into the fingerprint.
    public mutating func update<Bytes: DataProtocol>(_ bytes: Bytes) { digest.update(bytes) }

    /// Feeds raw bytes into the fingerprint.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { digest.update(bytes) }

    /// Feeds a string (UTF-8) into the fingerprint.
    public mutating func update(_ text: String) { digest.update(Data(text.utf8)) }

    /// The hex digest.
    public func finalize() -> String { digest.hexDigest() }

    /// The SHA-256 of a whole file, read in 1 MiB chunks.
    public static func ofFile(_ path: String) throws -> String { try Digest.hexDigest(ofFile: path, .sha256) }
}
