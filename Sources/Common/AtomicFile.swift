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
        try recover(primary)
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

    /// Removes `<prefix><pid>-<random>` files in `folder` whose process no longer runs, unless
    /// the folder holds a commit journal, whose moves may still need them (`recover`).
    static func removeAbandoned(prefix: String, in folder: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder),
            !names.contains(where: { $0.hasSuffix(".commit") })
        else { return }
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
/// Every file is staged in a temporary beside its target. `commit` then writes a journal
/// (`AtomicFile.journalPath(of:)`, itself atomically) naming every move and removal, removes the
/// old primary artifact, moves the sidecars into place, removes the sidecars this write no longer
/// makes, moves the primary last and removes the journal. Until the journal exists nothing has
/// changed; once it does, the new set is decided: if the process dies in between, the primary
/// is missing (no reader pairs an old artifact with new sidecars) until `AtomicFile.recover`
/// replays the journal, which every later write of the set does first.
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

    /// The temporary staged for `path`, which a caller may read back before the commit (to
    /// hash the bytes a sidecar describes); nil when `path` is not staged.
    public func stagedFile(for path: String) -> String? {
        staged.last { $0.path == path }?.temporary
    }

    func commit() throws {
        precondition(staged.contains { $0.path == primary }, "the file set never staged its primary \(primary)")
        AtomicFile.crashPoint.reached("commit")
        let moves = staged.filter { $0.path != primary } + staged.filter { $0.path == primary }
        // Absolute paths: a reader in another folder may finish the commit.
        let journal = AtomicFile.Journal(
            process: getpid(), moves: moves.map { [RegularFile.absolute($0.temporary), RegularFile.absolute($0.path)] },
            removals: obsolete.filter { path in !staged.contains { $0.path == path } }.map(RegularFile.absolute))
        try AtomicFile.write(try JSONFile.encode(journal), to: AtomicFile.journalPath(of: primary))
        AtomicFile.crashPoint.reached("journal")
        if unlink(primary) != 0 && errno != ENOENT {
            throw FileError(primary, "cannot replace (\(String(cString: strerror(errno))))", kind: .unwritable)
        }
        try AtomicFile.replay(journal, primary: primary)
    }

    func discard() {
        for (_, temporary) in staged { unlink(temporary) }
    }
}

extension AtomicFile {
    /// The moves and removals of one `AtomicFileSet` commit, written before the first of them.
    struct Journal: Codable {
        /// The committing process (a journal of a live process is its commit in progress).
        var process: Int32
        /// `[temporary, target]` pairs, the primary last.
        var moves: [[String]]
        var removals: [String]
    }

    /// The journal of a commit of the set whose primary is `primary`: `<primary>.commit`.
    public static func journalPath(of primary: String) -> String { primary + ".commit" }

    /// Whether a commit of the set `primary` is under way in a running process (its journal
    /// exists and names a live process other than this one).
    public static func isCommitting(_ primary: String) -> Bool {
        guard let journal = try? JSONFile.read(Journal.self, from: journalPath(of: primary), kind: "commit journal") else {
            return false
        }
        return journal.process != getpid() && (kill(journal.process, 0) == 0 || errno != ESRCH)
    }

    /// Finishes a commit of the set `primary` that a killed process left half done (its journal
    /// names a process that no longer runs): the moves it had not made are made, the removals
    /// done, the journal removed, so the set is the one that commit wrote. Does nothing when there
    /// is no journal; throws when the commit's process still runs or the journal is unreadable.
    public static func recover(_ primary: String) throws {
        let path = journalPath(of: primary)
        guard FileManager.default.fileExists(atPath: path) else { return }
        guard let journal = try JSONFile.read(Journal.self, from: path, kind: "commit journal") else { return }
        guard journal.moves.allSatisfy({ $0.count == 2 }) else {
            throw FileError(path, "a move must name a temporary and a target")
        }
        if journal.process != getpid() && (kill(journal.process, 0) == 0 || errno != ESRCH) {
            throw FileError(
                primary, "process \(journal.process) is replacing it right now (\(path)); try again when it is done",
                kind: .unwritable)
        }
        try replay(journal, primary: primary)
    }

    /// Makes the journal's moves whose temporaries are still there (the others were made) and
    /// its removals (before the primary's move), then removes the journal.
    static func replay(_ journal: Journal, primary: String) throws {
        let primary = RegularFile.absolute(primary)
        for move in journal.moves where FileManager.default.fileExists(atPath: move[0]) {
            if move[1] == primary {
                for path in journal.removals { unlink(path) }
                crashPoint.reached("primary")
            } else {
                crashPoint.reached("sidecar")
            }
            try rename(move[0], to: move[1])
        }
        unlink(journalPath(of: primary))
    }

    /// A named moment of a commit at which a test may have the process killed
    /// (`PIC2VEC_CRASH_AT=<moment>[:<n>]`: SIGKILL at its n-th occurrence, default the first),
    /// to check that a crash at any moment leaves the old set or the new one. Moments: `commit`
    /// (every file staged, no journal yet), `journal` (written), `sidecar` (before each sidecar's
    /// move), `primary` (before the primary's move).
    struct CrashPoint: Sendable {
        let moment: String?
        let occurrence: Int
        nonisolated(unsafe) static var seen: [String: Int] = [:]

        init(_ setting: String?) {
            let parts = setting?.split(separator: ":").map(String.init) ?? []
            moment = parts.first
            occurrence = parts.count > 1 ? Int(parts[1]) ?? 1 : 1
        }

        func reached(_ name: String) {
            guard name == moment else { return }
            Self.seen[name, default: 0] += 1
            if Self.seen[name] == occurrence { kill(getpid(), SIGKILL) }
        }
    }

    static let crashPoint = CrashPoint(ProcessInfo.processInfo.environment["PIC2VEC_CRASH_AT"])
}
