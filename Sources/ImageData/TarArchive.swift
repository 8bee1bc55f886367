import Common
import Download
import Foundation

/// Unpacks `.tar.gz` archives, refusing anything that would land outside the target.
///
/// Reads ustar, GNU long names (`L`) and pax `path`/`size` records; regular files and
/// folders are written, links and special files are refused, as are absolute paths and
/// `..` components. Everything is unpacked into a hidden staging folder inside the target
/// first and moved into place at the end, so a failure leaves nothing half-written.
enum TarArchive {
    /// The largest archive content accepted after decompression.
    static let maximumBytes = 1 << 32

    /// Gunzips the archive at `path` and unpacks it into `folder`.
    static func extractGzip(_ path: String, into folder: String) throws {
        let compressed = try FileBytes.load(path, maxBytes: FileBytes.maximumDataBytes)
        let tar: [UInt8]
        do {
            tar = try Zlib.gunzip(compressed, maximumBytes: maximumBytes)
        } catch {
            throw FileError(path, "not a valid gzip file (\(error))")
        }
        try tar.withUnsafeBytes { try extract($0, from: path, into: folder) }
    }

    /// Unpacks tar bytes into `folder` through a staging folder; `path` names the archive in errors.
    static func extract(_ tar: UnsafeRawBufferPointer, from path: String, into folder: String) throws {
        let staging = folder + "/.unpacking-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        } catch {
            throw FileError(folder, "cannot create folder (\(error.localizedDescription))")
        }
        defer { try? FileManager.default.removeItem(atPath: staging) }
        try unpack(tar, from: path, into: staging)
        for entry in try FileManager.default.contentsOfDirectory(atPath: staging) {
            let target = folder + "/" + entry
            guard !FileManager.default.fileExists(atPath: target) else {
                throw FileError(target, "already exists; remove it to unpack \(path) again")
            }
            guard rename(staging + "/" + entry, target) == 0 else {
                throw FileError(target, "cannot move into place (\(String(cString: strerror(errno))))")
            }
        }
    }

    /// Writes the members of `tar` under `folder`.
    private static func unpack(_ tar: UnsafeRawBufferPointer, from path: String, into folder: String) throws {
        var offset = 0
        var pending: (path: String?, size: Int?) = (nil, nil)
        while offset + 512 <= tar.count {
            let header = UnsafeRawBufferPointer(rebasing: tar[offset..<offset + 512])
            if header.allSatisfy({ $0 == 0 }) { return }
            try verifyChecksum(header, at: offset, in: path)
            var name = text(header, 0, 100)
            let prefix = text(header, 345, 155)
            if !prefix.isEmpty && header[257..<262].elementsEqual("ustar".utf8) { name = prefix + "/" + name }
            name = pending.path ?? name
            let size = try pending.size ?? number(header, 124, 12, at: offset, in: path)
            pending = (nil, nil)
            let start = offset + 512
            guard size >= 0, start + size <= tar.count else {
                throw FileError(
                    path, "truncated: member \(name) needs \(size) bytes at offset \(start), archive has \(tar.count)",
                    kind: .truncated)
            }
            let content = UnsafeRawBufferPointer(rebasing: tar[start..<start + size])
            offset = start + (size + 511) / 512 * 512
            switch header[156] {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                let target = try safePath(name, in: folder, archive: path)
                try createFolder((target as NSString).deletingLastPathComponent, archive: path)
                guard FileManager.default.createFile(atPath: target, contents: Data(content)) else {
                    throw FileError(target, "cannot write (unpacking \(path))", kind: .unwritable)
                }
            case UInt8(ascii: "5"):
                try createFolder(try safePath(name, in: folder, archive: path), archive: path)
            case UInt8(ascii: "L"):
                pending.path = String(decoding: content.prefix { $0 != 0 }, as: UTF8.self)
            case UInt8(ascii: "x"):
                pending = paxRecords(content)
            case UInt8(ascii: "g"):
                continue
            case UInt8(ascii: "1"), UInt8(ascii: "2"):
                throw FileError(path, "member \(name) is a link; links are refused")
            default:
                throw FileError(path, "member \(name) is a special file (type \(Character(UnicodeScalar(header[156])))); refused")
            }
        }
        throw FileError(path, "truncated: no end-of-archive marker after \(offset) bytes", kind: .truncated)
    }

    /// `name` joined to `folder`, refusing absolute paths and `..` components.
    private static func safePath(_ name: String, in folder: String, archive: String) throws -> String {
        let parts = name.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        guard !name.hasPrefix("/"), !parts.isEmpty, !parts.contains("..") else {
            throw FileError(archive, "member \(name) would land outside the target folder; refused")
        }
        return folder + "/" + parts.joined(separator: "/")
    }

    private static func createFolder(_ path: String, archive: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw FileError(path, "cannot create folder (unpacking \(archive): \(error.localizedDescription))")
        }
    }

    /// The NUL-terminated text of a header field.
    private static func text(_ header: UnsafeRawBufferPointer, _ start: Int, _ length: Int) -> String {
        String(decoding: header[start..<start + length].prefix { $0 != 0 }, as: UTF8.self)
    }

    /// A numeric header field: octal text, or base-256 when the high bit of its first byte is set.
    private static func number(_ header: UnsafeRawBufferPointer, _ start: Int, _ length: Int, at offset: Int, in path: String)
        throws -> Int
    {
        let field = header[start..<start + length]
        if field.first.map({ $0 & 0x80 != 0 }) == true {
            return field.dropFirst().reduce(Int(field[start] & 0x7F)) { $0 << 8 | Int($1) }
        }
        let digits = String(decoding: field.prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        guard let value = Int(digits.isEmpty ? "0" : digits, radix: 8) else {
            throw FileError(path, "corrupt tar header at offset \(offset): bad number \"\(digits)\"")
        }
        return value
    }

    /// Checks the header checksum (the byte sum with the checksum field read as spaces).
    private static func verifyChecksum(_ header: UnsafeRawBufferPointer, at offset: Int, in path: String) throws {
        let stored = try number(header, 148, 8, at: offset, in: path)
        let sum = header.enumerated().reduce(0) { $0 + (148..<156 ~= $1.offset ? 32 : Int($1.element)) }
        guard stored == sum else {
            throw FileError(path, "corrupt tar header at offset \(offset) (checksum \(stored), computed \(sum))")
        }
    }

    /// The `path` and `size` of pax extended-header records ("LENGTH key=value\n").
    private static func paxRecords(_ content: UnsafeRawBufferPointer) -> (path: String?, size: Int?) {
        var result: (path: String?, size: Int?) = (nil, nil)
        for line in String(decoding: content, as: UTF8.self).split(separator: "\n") {
            guard let space = line.firstIndex(of: " "), let equals = line.firstIndex(of: "=") else { continue }
            let key = line[line.index(after: space)..<equals], value = String(line[line.index(after: equals)...])
            if key == "path" { result.path = value }
            if key == "size" { result.size = Int(value) }
        }
        return result
    }
}
