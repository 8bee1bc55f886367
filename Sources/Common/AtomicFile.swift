import Foundation

/// An error reading or writing a file, naming the path and the problem.
public struct FileError: Error, CustomStringConvertible, Equatable {
    /// The file (or folder) concerned.
    public let path: String
    /// What is wrong with it.
    public let problem: String

    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}

/// Writes whole files atomically: a temporary file beside the target, then a rename.
///
/// A reader never sees a half-written artifact, and a failed write leaves the old file
/// (or nothing) in place.
public enum AtomicFile {
    /// Writes `data` to `path`, creating the parent folder if needed.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: data) else {
                throw FileError(path, "cannot write (\(String(cString: strerror(errno))))")
            }
        }
    }

    /// Lets `body` fill a temporary path, then renames it to `path`; removes it if `body` throws.
    public static func write(to path: String, _ body: (String) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw FileError(folder, "cannot create folder (\(error.localizedDescription))")
        }
        guard access(folder, W_OK) == 0 else { throw FileError(folder, "folder is not writable") }
        let temporary = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try body(temporary)
            guard rename(temporary, path) == 0 else {
                throw FileError(path, "cannot rename into place (\(String(cString: strerror(errno))))")
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }
}
