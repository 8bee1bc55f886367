import Common
import Foundation
import ImageData
import Networks
import TSNE
import VectorSearch

/// Adds images to an indexed collection and removes them, without building it again: each
/// change is one new generation of every file of the collection, committed as one unit.
///
/// Rows are the collection's `ImageFileList` (`<index>.files.json`: carried from `pic2vec
/// embed` of an image folder, else made from the index's image folder at the first change); an
/// image is recognised by the SHA-256 of its bytes. Added images get the next rows; removing
/// rows moves the later rows down. The labels, the description (its `generation` counts the
/// changes), the saved re-ranking lists (those `RerankingPipeline.updatedLists` can update; the
/// others are searched when the pipeline is next prepared) and the map (new points placed by `TSNEPlacement`, clusters by the nearest
/// cluster mean) follow the rows. One editor holds the collection's lock: a second `add` or
/// `remove` of the same collection stops with a message instead of waiting.
public final class CollectionEditor {
    /// The collection's files.
    public let files: CollectionFiles
    /// Its description before the change.
    public private(set) var description: IndexDescription
    /// Its rows' files before the change.
    public private(set) var list: ImageFileList
    private let lock: Int32
    private let threads: Int

    /// What one change did.
    public struct Summary: Sendable {
        /// Images added, already held (by content), moved (held, their file now elsewhere) and removed.
        public var added = 0, alreadyHeld = 0, moved = 0, removed = 0
        /// Rows after the change.
        public var rows = 0
        /// The committed generation, or nil when nothing changed (no commit).
        public var generation: Int?
        /// What happened to the re-ranking lists and the map, in words.
        public var notes: [String] = []
        /// The seconds each stage took, in order.
        public var stages: [(name: String, seconds: Double)] = []
    }

    /// The stages of the change under way, timed.
    private var stages: [(name: String, seconds: Double)] = []

    /// Runs `body` as the stage `name`, timed (reported in `Summary.stages`).
    private func timed<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let start = Date()
        defer { stages.append((name, Date().timeIntervalSince(start))) }
        return try body()
    }

    /// Opens the collection of the index at `index` for changes: takes its lock, finishes a
    /// commit a killed process left half done, and reads its description and rows.
    public init(index: String, threads: Int = ThreadPools.cores) throws {
        files = CollectionFiles(index: index)
        self.threads = threads
        lock = try Self.lock(files)
        do {
            try AtomicFile.recover(index)
            guard FileManager.default.fileExists(atPath: index) else {
                throw FileError(index, "no index here; build one with `pic2vec embed` then `pic2vec index`", kind: .missing)
            }
            guard let description = try files.readDescription() else {
                throw FileError(
                    files.descriptionPath,
                    "missing: a collection changes only when its description says how its rows were made (`pic2vec index` over `pic2vec embed` output writes it)",
                    kind: .missing)
            }
            self.description = description
            let start = Date()
            list = try Self.fileList(of: description, files: files)
            stages.append(("reading the collection's files", Date().timeIntervalSince(start)))
        } catch {
            close(lock)
            throw error
        }
    }

    deinit { close(lock) }

    /// Adds the images among `paths` (image files, or folders of them: class subfolders give
    /// labels) that the collection does not hold yet, embedded as its description says.
    public func add(_ paths: [String], progress: Bool = true) async throws -> Summary {
        var summary = Summary()
        let candidates = try timed("listing the new files") { try Self.candidates(paths, classNames: &list.classNames) }
        let hashes = try timed("hashing \(candidates.count) new files") {
            try ImageFileList.sha256(of: candidates.map(\.path), progress: progress)
        }
        var held = [String: Int]()
        for (row, entry) in list.files.enumerated() { held[entry.sha256] = row }
        var fresh: [ImageFileList.Entry] = []
        var updated = list
        for (candidate, hash) in zip(candidates, hashes) {
            if let row = held[hash] {
                let known = updated.files[row].path
                if known != candidate.path && !FileManager.default.fileExists(atPath: known) {
                    updated.files[row].path = candidate.path
                    summary.moved += 1
                } else {
                    summary.alreadyHeld += 1
                }
                continue
            }
            held[hash] = list.files.count + fresh.count
            fresh.append(ImageFileList.Entry(path: candidate.path, sha256: hash, label: candidate.label))
        }
        summary.added = fresh.count
        updated.files += fresh
        guard !fresh.isEmpty || summary.moved > 0 else {
            summary.rows = list.files.count
            summary.stages = stages
            return summary
        }
        let (index, previous) = try timed("reading the index") { try readIndex() }
        let start = Date()
        let vectors = try await embed(ImageFileList(classNames: updated.classNames, files: fresh), progress: progress)
        stages.append(("embedding \(fresh.count) images", Date().timeIntervalSince(start)))
        try timed("adding to the index") { try index.add(vectors) }
        let rows = Matrix(rows: previous.rows + vectors.rows, columns: vectors.columns, values: previous.values + vectors.values)
        let kept = Array(0..<previous.rows).map { Optional($0) }
        summary.generation = try commit(
            index, list: updated, previous: previous, rows: rows, kept: kept, added: Array(previous.rows..<rows.rows),
            notes: &summary.notes)
        summary.rows = rows.rows
        summary.stages = stages
        return summary
    }

    /// The index, read whole, and its rows, as stored; throws unless it has one row per file.
    private func readIndex() throws -> (VectorIndex, Matrix) {
        let index = try VectorIndex(contentsOf: files.index, threads: threads)
        guard index.count == list.files.count else {
            throw FileError(
                files.index, "holds \(index.count) rows but its data has \(list.files.count) images", kind: .mismatch)
        }
        return (index, try index.vectors())
    }

    /// Removes the rows whose files are `paths` (as given or resolved to absolute paths) and,
    /// with `missing`, every row whose file is gone. A path the collection does not hold is an
    /// error, and nothing changes.
    public func remove(_ paths: [String], missing: Bool) throws -> Summary {
        var rowsOf = [String: [Int]]()
        for (row, entry) in list.files.enumerated() { rowsOf[entry.path, default: []].append(row) }
        var removed = Set<Int>()
        for path in paths {
            guard let rows = rowsOf[RegularFile.absolute(path)] else {
                throw FileError(path, "is not in the collection of \(files.index)", kind: .missing)
            }
            removed.formUnion(rows)
        }
        if missing {
            for (row, entry) in list.files.enumerated() where !FileManager.default.fileExists(atPath: entry.path) {
                removed.insert(row)
            }
        }
        var summary = Summary(removed: removed.count, rows: list.files.count)
        guard !removed.isEmpty else { return summary }
        guard removed.count < list.files.count else {
            throw FileError(files.index, "removing every image would leave an empty collection: delete the index instead")
        }
        let (index, previous) = try timed("reading the index") { try readIndex() }
        try timed("removing from the index") { try index.remove(rows: removed.sorted()) }
        var kept = [Int?](repeating: nil, count: list.files.count)
        var next = 0
        for row in 0..<list.files.count where !removed.contains(row) {
            kept[row] = next
            next += 1
        }
        let keptRows = (0..<list.files.count).filter { !removed.contains($0) }
        let rows = Matrix(rows: keptRows.count, columns: previous.columns, values: keptRows.flatMap { previous.row($0) })
        let updated = ImageFileList(classNames: list.classNames, files: keptRows.map { list.files[$0] })
        summary.generation = try commit(
            index, list: updated, previous: previous, rows: rows, kept: kept, added: [], notes: &summary.notes)
        summary.rows = rows.rows
        return summary
    }

    /// Writes the next generation: the index, its description, labels and file list, the
    /// re-ranking lists and the map, all in one `AtomicFileSet`.
    private func commit(
        _ index: VectorIndex, list updated: ImageFileList, previous: Matrix, rows: Matrix, kept: [Int?], added: [Int],
        notes: inout [String]
    ) throws -> Int {
        var next = description
        next.generation = description.generationNumber + 1
        next.data = files.fileListPath
        next.split = .train
        next.limit = nil
        next.augmentations = nil
        next.shard = nil
        next.dataFingerprint = updated.dataset(name: files.fileListPath).fingerprint
        let pipeline = try description.reranking()
        let cache = RerankingCache(files: files, pipeline: pipeline)
        let savedLists = try timed("reading the re-ranking lists") {
            pipeline == .baseline
                ? nil : cache.load(indexSHA256: try Digest.hexDigest(ofFile: files.index, .sha256), rows: previous.rows)
        }
        let lists = try timed("updating the re-ranking lists") {
            try savedLists.flatMap { try pipeline.updatedLists($0, previous: previous, rows: rows, kept: kept, added: added) }
        }
        let map = try timed("updating the map") { try updatedMap(previous: previous, rows: rows, kept: kept, added: added) }
        let start = Date()
        defer { stages.append(("writing the new generation", Date().timeIntervalSince(start))) }
        try files.write(index, description: next, labels: updated.labels, fileList: updated) { set in
            if let lists, let staged = set.stagedFile(for: files.index) {
                try cache.stage(lists, indexSHA256: try Digest.hexDigest(ofFile: staged, .sha256), in: &set)
                notes.append(
                    lists.count == pipeline.databaseSearches
                        ? "re-ranking lists updated (\(pipeline))"
                        : "re-ranking lists of the first search updated (\(pipeline)); the next preparation searches the rest")
            } else {
                cache.discard(in: &set)
                if pipeline != .baseline {
                    notes.append(
                        "re-ranking lists \(savedLists == nil ? "were not saved" : "must be searched again (\(pipeline) whitens)"): the first search prepares them"
                    )
                }
            }
            if let map {
                try set.add(NPY.encode(map.layout.values, shape: [map.layout.rows, 2]), to: files.layoutPath)
                if let clusters = map.clusters { try set.add(NPY.encode(clusters), to: files.clustersPath) }
                notes.append("map: \(added.count) points placed, \(map.layout.rows) in all")
            }
        }
        return next.generation ?? 0
    }

    /// The map's layout and clusters for `rows`, or nil when the collection has no map (or one
    /// that is not of its rows).
    private func updatedMap(previous: Matrix, rows: Matrix, kept: [Int?], added: [Int]) throws
        -> (layout: Matrix, clusters: [Int]?)?
    {
        guard FileManager.default.fileExists(atPath: files.layoutPath) else { return nil }
        let layout = try NPY.read(files.layoutPath, expected: NPY.Expected(.float32, shape: [nil, 2], meaning: "the map")).floats
        guard layout.count == 2 * previous.rows else { return nil }
        var clusters: [Int]? = nil
        if FileManager.default.fileExists(atPath: files.clustersPath) {
            let read = try NPY.read(files.clustersPath, expected: NPY.Expected(.int64, shape: [nil], meaning: "clusters")).ints
            clusters = read.count == previous.rows ? read : nil
        }
        var keptLayout: [Float] = [], keptClusters: [Int] = []
        for (old, new) in kept.enumerated() where new != nil {
            keptLayout += [layout[2 * old], layout[2 * old + 1]]
            if let clusters { keptClusters.append(clusters[old]) }
        }
        guard !added.isEmpty else {
            return (Matrix(rows: keptLayout.count / 2, columns: 2, values: keptLayout), clusters.map { _ in keptClusters })
        }
        let new = Matrix(rows: added.count, columns: rows.columns, values: added.flatMap { rows.row($0) })
        let placed = try TSNEPlacement().place(
            new, reference: previous, layout: Matrix(rows: previous.rows, columns: 2, values: layout))
        let newClusters = clusters.map { Self.nearestMean(new, rows: previous, groups: $0) }
        return (
            Matrix(rows: rows.rows, columns: 2, values: keptLayout + placed.values),
            newClusters.map { keptClusters + $0 }
        )
    }

    /// For each row of `new`, the group (of `groups`, one per row of `rows`) whose mean row is nearest.
    static func nearestMean(_ new: Matrix, rows: Matrix, groups: [Int]) -> [Int] {
        let count = (groups.max() ?? -1) + 1
        var sums = [Double](repeating: 0, count: count * rows.columns), sizes = [Int](repeating: 0, count: count)
        for (row, group) in groups.enumerated() where group >= 0 {
            sizes[group] += 1
            for (c, value) in rows.row(row).enumerated() { sums[group * rows.columns + c] += Double(value) }
        }
        return (0..<new.rows).map { row in
            let vector = new.row(row)
            return (0..<count).filter { sizes[$0] > 0 }.min { a, b in
                func distance(_ g: Int) -> Double {
                    zip(vector, 0..<rows.columns).reduce(0) { total, pair in
                        let d = Double(pair.0) - sums[g * rows.columns + pair.1] / Double(sizes[g])
                        return total + d * d
                    }
                }
                return distance(a) < distance(b)
            } ?? -1
        }
    }

    /// Embeds the files of `fresh` with the network, weights, preprocessing and precision of the description.
    private func embed(_ fresh: ImageFileList, progress: Bool) async throws -> Matrix {
        let weights = try await description.loadWeights(for: files.index)
        let embedder = Embedder(network: weights.network, preprocessing: description.preprocessing, threads: threads)
        let vectors = try embedder.embed(fresh.dataset(name: "new images"), progress: progress)
        return description.normalized ? vectors.l2Normalized() : vectors
    }

    /// The collection's rows as a file list: its own (`pic2vec index` carries the one `pic2vec
    /// embed` writes for an image folder; a change writes it), else, at the first change, the
    /// files of the image folder its description names, every file hashed.
    static func fileList(of description: IndexDescription, files: CollectionFiles) throws -> ImageFileList {
        if FileManager.default.fileExists(atPath: files.fileListPath) { return try ImageFileList.read(files.fileListPath) }
        guard let data = description.data, description.augmentations == nil, description.shard == nil else {
            throw FileError(
                files.descriptionPath,
                "names no image folder of whole images (no data, augmented rows or one shard): the collection cannot change")
        }
        var dataset = try DataSource.open(data, download: false).dataset(description.split, of: data)
        if let limit = description.limit { dataset = dataset.limited(to: limit) }
        if let expected = description.dataFingerprint, expected != dataset.fingerprint {
            throw FileError(
                data, "its fingerprint differs from the one recorded for \(files.index): the data changed", kind: .mismatch)
        }
        guard let list = try ImageFileList.of(dataset, progress: true) else {
            throw FileError(data, "holds no image files (CIFAR-10 batches): only a collection of image files can change")
        }
        return list
    }

    /// The image files `paths` name (a folder: its images, labelled by class subfolder), with
    /// labels into `classNames`, to which new class names are added.
    static func candidates(_ paths: [String], classNames: inout [String]) throws -> [(path: String, label: Int)] {
        var found: [(path: String, label: Int)] = []
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw FileError(path, "no such file or folder", kind: .missing)
            }
            guard isFolder.boolValue else {
                try RegularFile.check(path)
                found.append((RegularFile.absolute(path), -1))
                continue
            }
            let splits = try ImageFolder.open(path)
            for dataset in [splits.train, splits.test].compactMap({ $0 }) {
                let labels = dataset.labels
                for (row, id) in dataset.ids.enumerated() {
                    var label = -1
                    if let given = labels?[row] {
                        let name = dataset.classNames[given]
                        label = classNames.firstIndex(of: name) ?? classNames.count
                        if label == classNames.count { classNames.append(name) }
                    }
                    found.append((RegularFile.absolute(id), label))
                }
            }
        }
        return found
    }

    /// Takes the collection's lock (`CollectionFiles.lockPath`), or throws when another process holds it.
    private static func lock(_ files: CollectionFiles) throws -> Int32 {
        let descriptor = open(files.lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw FileError(files.lockPath, "cannot open (\(String(cString: strerror(errno))))", kind: .unwritable)
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw FileError(files.index, "another pic2vec add or remove is changing this collection; try again when it is done")
        }
        return descriptor
    }
}
