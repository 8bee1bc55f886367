import CollectionStore
import Common
import Foundation
import VectorSearch

/// Reading the embedding and label files the search commands share.
enum EmbeddingFile {
    /// Reads a 2-D float32 `.npy`, optionally L2-normalizing its rows; rejects empty or
    /// non-finite data and rows whose squared distances would overflow float32.
    static func read(_ path: String, normalize: Bool) throws -> Matrix {
        let file = try EmbeddingFiles(paths: [path], normalize: normalize)
        return try file.rows(0..<file.count)
    }

    /// Reads an int64 label vector and checks it has one label per row.
    static func readLabels(_ path: String, count: Int) throws -> [Int] {
        try NPY.read(path, expected: NPY.Expected(.int64, shape: [count], meaning: "one label per row")).ints
    }

    /// Reads an int64 label vector.
    static func readLabels(_ path: String) throws -> [Int] {
        try NPY.read(path, expected: NPY.Expected(.int64, shape: [nil], meaning: "one label per row")).ints
    }

    /// The labels file to use: the explicit one, else the one `pic2vec embed` wrote for
    /// `file` (`<file stem>.labels.npy`), else `labels.npy` in `file`'s folder (as the
    /// experiments write it), if it exists.
    static func labelsPath(explicit: String?, besideFile file: String) throws -> String? {
        if let explicit { return explicit }
        // The notebook's labels.npy in the file's folder, as `CollectionFiles` names it for an index there.
        let beside = CollectionFiles(index: file).notebookLabelsPath
        return [EmbeddingOutput(path: file).defaultLabelsPath, beside].first { FileManager.default.fileExists(atPath: $0) }
    }

    /// The labels of the rows of `files` in order: `explicit` (one file for them all), else for one
    /// file what `guessedLabels` finds, for several each file's own `<stem>.labels.npy` when every
    /// file has one; none when no file has; throws when only some have labels.
    static func labels(explicit: String?, forFiles files: [String], counts: [Int]) throws -> [Int]? {
        if let explicit { return try readLabels(explicit, count: counts.reduce(0, +)) }
        if files.count == 1 { return try guessedLabels(besideFile: files[0], count: counts[0]) }
        let paths = files.map { file -> String? in
            let path = EmbeddingOutput(path: file).defaultLabelsPath
            return FileManager.default.fileExists(atPath: path) ? path : nil
        }
        guard paths.contains(where: { $0 != nil }) else { return nil }
        var all = [Int]()
        for (file, (path, count)) in zip(files, zip(paths, counts)) {
            guard let path else {
                throw FileError(
                    file,
                    "has no labels (\(EmbeddingOutput(path: file).defaultLabelsPath)) while other files have: give --labels",
                    kind: .mismatch)
            }
            all += try readLabels(path, count: count)
        }
        return all
    }

    /// The labels of the `count` rows of `file` from its `labelsPath`, or none. The file's own
    /// `<stem>.labels.npy` must hold one per row; a folder's `labels.npy` is only a guess: when it
    /// holds another number of labels it belongs to other rows (experiment 11's cached set beside
    /// the run's labels), and the rows are taken as unlabeled, with a note.
    private static func guessedLabels(besideFile file: String, count: Int) throws -> [Int]? {
        guard let path = try labelsPath(explicit: nil, besideFile: file) else { return nil }
        guard path != EmbeddingOutput(path: file).defaultLabelsPath else { return try readLabels(path, count: count) }
        let guessed = try readLabels(path)
        guard guessed.count == count else {
            FileHandle.standardError.write(
                Data("note: \(path) holds \(guessed.count) labels for \(count) rows: not these rows' labels, ignored\n".utf8))
            return nil
        }
        return guessed
    }
}
