import Foundation

/// The check made before a data file is opened: only a regular file is read.
///
/// A FIFO or device named like a data file would block the open (or never end), so it is
/// refused by `stat`, which does not open it.
public enum RegularFile {
    /// Throws a `FileError` naming `path` unless it is a regular file (symbolic links followed).
    public static func check(_ path: String) throws {
        var status = stat()
        guard stat(path, &status) == 0 else { throw FileError(path, "cannot read file (\(String(cString: strerror(errno))))") }
        guard status.st_mode & S_IFMT == S_IFREG else { throw FileError(path, "not a regular file") }
    }
}
