internal import COpenSSL
import Foundation

/// A running SHA-256 or MD5 digest, computed by OpenSSL's libcrypto.
///
/// Owns one `EVP_MD_CTX`, freed in `deinit`. A reference type: the context is state that
/// must not be copied, so two names for one `Digest` feed the same hash. Unchecked: a digest
/// is fed by one thread at a time (nothing here shares one between tasks while it is fed).
public final class Digest: @unchecked Sendable {
    /// The hash functions this project uses.
    public enum Algorithm: Sendable {
        /// SHA-256 (fingerprints, torchvision's file names).
        case sha256
        /// MD5 (CIFAR-10's published checksums).
        case md5
    }

    private let context: OpaquePointer

    /// A fresh digest of `algorithm`.
    public init(_ algorithm: Algorithm) {
        guard let context = EVP_MD_CTX_new() else { fatalError("libcrypto: out of memory for a digest context") }
        let type =
            switch algorithm {
            case .sha256: EVP_sha256()
            case .md5: EVP_md5()
            }
        precondition(EVP_DigestInit_ex(context, type, nil) == 1, "libcrypto: cannot start a digest")
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Feeds raw bytes.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        precondition(EVP_DigestUpdate(context, base, bytes.count) == 1, "libcrypto: digest update failed")
    }

    /// Feeds bytes from any contiguous or segmented collection.
    public func update<Bytes: DataProtocol>(_ bytes: Bytes) {
        for region in bytes.regions { region.withUnsafeBytes { update($0) } }
    }

    /// The digest of everything fed so far, as lowercase hex; the running state is left untouched.
    public func hexDigest() -> String {
        guard let copy = EVP_MD_CTX_new() else { fatalError("libcrypto: out of memory for a digest context") }
        defer { EVP_MD_CTX_free(copy) }
        precondition(EVP_MD_CTX_copy_ex(copy, context) == 1, "libcrypto: cannot copy a digest")
        var bytes = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        precondition(EVP_DigestFinal_ex(copy, &bytes, &length) == 1, "libcrypto: digest finalization failed")
        return bytes.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }

    /// The digest of a whole file, read in 1 MiB chunks, as lowercase hex.
    public static func hexDigest(ofFile path: String, _ algorithm: Algorithm) throws -> String {
        let file = try RegularFile(path)
        let digest = Digest(algorithm)
        for start in stride(from: 0, to: file.size, by: 1 << 20) {
            digest.update(try file.bytes(start..<min(start + (1 << 20), file.size)))
        }
        return digest.hexDigest()
    }
}
