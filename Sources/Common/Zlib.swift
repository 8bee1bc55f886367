internal import CLibZ

/// gzip decompression, zlib compression and CRC-32, by the system's zlib.
public enum Zlib {
    /// Why zlib refused some bytes.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Decompresses a gzip stream (RFC 1952), refusing output larger than `maximumBytes`.
    public static func gunzip(_ compressed: [UInt8], maximumBytes: Int) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        guard pic2vec_inflate_init_gzip(&stream) == Z_OK else { throw Failure(description: "cannot start zlib") }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var status = Z_OK
        compressed.withUnsafeBufferPointer { input in
            // zlib never writes through next_in.
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = UInt32(input.count)
            repeat {
                status = chunk.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = UInt32(buffer.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                output += chunk.prefix(chunk.count - Int(stream.avail_out))
            } while status == Z_OK && output.count <= maximumBytes
        }
        guard output.count <= maximumBytes else {
            throw Failure(description: "more than \(maximumBytes) bytes once decompressed")
        }
        guard status == Z_STREAM_END else {
            let message = stream.msg.map { String(cString: $0) } ?? (status == Z_BUF_ERROR ? "truncated" : "error \(status)")
            throw Failure(description: message)
        }
        return output
    }

    /// The zlib stream (RFC 1950) of `bytes` at the default level, as PNG's IDAT holds it.
    public static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var length = compressBound(uLong(bytes.count))
        var output = [UInt8](repeating: 0, count: Int(length))
        let status = CLibZ.compress(&output, &length, bytes, uLong(bytes.count))
        precondition(status == Z_OK, "zlib compress failed (\(status)) with a buffer of compressBound bytes")
        return Array(output.prefix(Int(length)))
    }

    /// The CRC-32 of `bytes` (ISO 3309, as PNG chunks and gzip carry it).
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        UInt32(CLibZ.crc32(0, bytes, uInt(bytes.count)))
    }
}
