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

    /// The labels of the rows of `files` in order: `explicit` (one file for them all), else for one
    /// file its own labels or its folder's (`EmbeddingOutput.readLabels`), for several each file's
    /// own `<stem>.labels.npy` when every file has one; none when no file has; throws when only
    /// some have labels.
    static func labels(explicit: String?, forFiles files: [String], counts: [Int]) throws -> [Int]? {
        if let explicit { return try readLabels(explicit, count: counts.reduce(0, +)) }
        if files.count == 1 { return try EmbeddingOutput(path: files[0]).readLabels(rows: counts[0]) }
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
}
