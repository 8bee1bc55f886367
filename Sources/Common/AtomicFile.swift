import Foundation

/// An error reading or writing a file, naming the path, the kind of problem and the problem in words.
public struct FileError: Error, CustomStringConvertible, Equatable {
    /// What kind of problem a file has: what a caller (or a test) can act on without reading the words.
    public enum Kind: Sendable, Equatable {
        /// Nothing at the path.
        case missing
        /// A FIFO, device, socket or folder where a file was expected.
        case notARegularFile
        /// It exists but cannot be opened or read (permissions, I/O errors).
        case unreadable
        /// Larger than what this kind of file may take, refused before reading.
        case tooLarge
        /// Shorter than its own header says.
        case truncated
        /// Readable, but not what it should hold (bad header, bad value, extra bytes).
        case malformed
        /// Well-formed, but of another shape or type than the reader needs.
        case wrongShape
        /// Made by (or for) another network, weights or data than the ones in use.
        case mismatch
        /// Cannot be written.
        case unwritable
    }

    /// The file (or folder) concerned.
    public let path: String
    /// What is wrong with it.
    public let problem: String
    /// The kind of problem.
    public let kind: Kind

    public init(_ path: String, _ problem: String, kind: Kind = .malformed) {
        self.path = path
        self.problem = problem
        self.kind = kind
    }

    public var description: String { "\(path): \(problem)" }
}

/// Writes whole files atomically: a temporary file beside the target, then a rename.
///
/// A reader never sees a half-written artifact, and a failed write leaves the old file
/// (or nothing) in place. Temporaries are hidden (`.<name>.tmp-<pid>-<random>`); those a
/// killed process left behind are removed by the next write of the same file.
public enum AtomicFile {
    /// Writes `data` to `path`, creating the parent folder if needed.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { temporary in try fill(temporary, with: data, for: path) }
    }

    /// Lets `body` fill a temporary path, then renames it to `path`; removes it if `body` throws.
    public static func write(to path: String, _ body: (String) throws -> Void) throws {
        let temporary = try temporaryPath(for: path)
        do {
            try body(temporary)
            try rename(temporary, to: path)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Writes an artifact and its sidecars as one unit (see `AtomicFileSet`): `fill` stages
    /// every file; when it returns they all replace their targets, when it throws none does.
    public static func writeSet(primary: String, _ fill: (inout AtomicFileSet) throws -> Void) throws {
        var set = AtomicFileSet(primary: primary)
        do {
            try fill(&set)
            try set.commit()
        } catch {
            set.discard()
            throw error
        }
    }

    /// A fresh hidden temporary beside `path`, in a folder created if needed; removes the
    /// temporaries of `path` that dead processes left.
    static func temporaryPath(for path: String) throws -> String {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw FileError(folder, "cannot create folder (\(error.localizedDescription))", kind: .unwritable)
        }
        guard access(folder, W_OK) == 0 else { throw FileError(folder, "folder is not writable", kind: .unwritable) }
        let prefix = "." + url.lastPathComponent + ".tmp-"
        removeAbandoned(prefix: prefix, in: folder)
        return folder + "/" + prefix + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Removes `<prefix><pid>-<random>` files in `folder` whose process no longer runs.
    static func removeAbandoned(prefix: String, in folder: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(folder + "/" + name) }
        }
    }

    ///
    /// Written with `write(2)` in a loop that resumes after partial writes: Foundation's
    /// `createFile(atPath:contents:)` on Linux writes wrong bytes past the first 2 GiB
    /// (0x7ffff000, the most one `write` call transfers), which corrupted large embedding files.
    static func fill(_ temporary: String, with data: Data, for path: String) throws {
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw FileError(path, "cannot write (\(String(cString: strerror(errno))))", kind: .unwritable)
        }
        defer { close(descriptor) }
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            guard let base = bytes.baseAddress else { return }
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(descriptor, base + offset, min(bytes.count - offset, 1 << 30))
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else {
                    throw FileError(path, "cannot write (\(String(cString: strerror(errno))))", kind: .unwritable)
                }
                offset += written
            }
        }
    }

    static func rename(_ temporary: String, to path: String) throws {
        guard Foundation.rename(temporary, path) == 0 else {
            throw FileError(path, "cannot rename into place (\(String(cString: strerror(errno))))", kind: .unwritable)
        }
    }
}

/// An artifact and its sidecars, written and replaced as one unit.
///
/// Every file is staged in a temporary beside its target. `commit` then removes the old
/// primary artifact first, moves the sidecars into place, removes the sidecars this write no
/// longer makes, and moves the primary last. Until `commit` nothing changes; if the
/// process dies during it, the primary is missing, so no command pairs an old artifact
/// with new sidecars (or a new one with old): it is rebuilt or reported missing.
public struct AtomicFileSet {
    /// The artifact the others describe; replaced last.
    public let primary: String
    private var staged: [(path: String, temporary: String)] = []
    private var obsolete: [String] = []

    init(primary: String) {
        self.primary = primary
    }

    /// Stages `path`, filled by `body` through a temporary path.
    public mutating func add(_ path: String, _ body: (String) throws -> Void) throws {
        let temporary = try AtomicFile.temporaryPath(for: path)
        staged.append((path, temporary))
        try body(temporary)
    }

    /// Stages `data` for `path`.
    public mutating func add(_ data: Data, to path: String) throws {
        try add(path) { try AtomicFile.fill($0, with: data, for: path) }
    }

    /// Marks a sidecar that an older write made and this one does not: removed on commit.
    public mutating func remove(_ path: String) {
        obsolete.append(path)
    }

    func commit() throws {
        precondition(staged.contains { $0.path == primary }, "the file set never staged its primary \(primary)")
        if unlink(primary) != 0 && errno != ENOENT {
            throw FileError(primary, "cannot replace (\(String(cString: strerror(errno))))", kind: .unwritable)
        }
        for (path, temporary) in staged where path != primary { try AtomicFile.rename(temporary, to: path) }
        for path in obsolete where !staged.contains(where: { $0.path == path }) { unlink(path) }
        for (path, temporary) in staged where path == primary { try AtomicFile.rename(temporary, to: path) }
    }

    func discard() {
        for (_, temporary) in staged { unlink(temporary) }
    }
}
