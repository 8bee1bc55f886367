import CollectionStore
import Common
import Foundation
import VectorSearch

/// `pic2vec index --merge`: IVF indexes filled from one trained index, combined in order.
struct IndexMerge {
    /// The index files, in the order their rows take in the merged index.
    let paths: [String]
    let threads: Int

    /// Merges the indexes and their labels into `output`; throws naming the first index that
    /// is not IVF, differs in dimension, metric or training, or was made by another model.
    func run(output: String) throws {
        try checkParts()
        let description = try IndexDescription.combining(
            paths.map { try CollectionFiles(index: $0).readDescription() }, paths: paths)
        let labels = try mergedLabels()
        let merged = try open(paths[0])
        for path in paths.dropFirst() {
            let index = try open(path)
            do {
                try merged.merge(index)
            } catch {
                throw FileError(path, "cannot be merged into \(paths[0]): \(error)")
            }
        }
        try CollectionFiles(index: output).write(merged, description: description, labels: labels)
        print("Merged \(paths.count) indexes into \(merged.count) vectors of dimension \(merged.dimension) in \(output)")
    }

    /// Throws naming the first part that is not a readable regular file or names a file
    /// already given (which would add its rows twice).
    private func checkParts() throws {
        var seen: [String: String] = [:]
        for path in paths {
            try RegularFile.check(path)
            let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
            if let first = seen.updateValue(path, forKey: resolved) {
                throw FileError(
                    path, "is the same file as \(first), given twice to --merge: its rows would be added twice", kind: .mismatch)
            }
        }
    }

    private func open(_ path: String) throws -> VectorIndex {
        let index = try VectorIndex(contentsOf: path, threads: threads)
        guard index.isIVF else {
            throw FileError(path, "is not an IVF index: only IVF indexes filled from one trained index can be merged")
        }
        return index
    }

    /// Each index's labels in order, when every index has them; none when none has.
    private func mergedLabels() throws -> [Int]? {
        let sidecars = paths.map { CollectionFiles(index: $0).labelsPath }
        let present = sidecars.filter { FileManager.default.fileExists(atPath: $0) }
        guard !present.isEmpty else { return nil }
        guard present.count == sidecars.count else {
            throw FileError(
                paths[sidecars.firstIndex { !FileManager.default.fileExists(atPath: $0) } ?? 0],
                "has no labels (.labels.npy) while other indexes have", kind: .mismatch)
        }
        return try sidecars.flatMap { try EmbeddingFile.readLabels($0) }
    }
}
