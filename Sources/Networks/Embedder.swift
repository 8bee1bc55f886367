internal import CBLAS
import Common
import Foundation
import ImageData

/// Turns images into raw (unnormalized) embeddings, one row per image.
///
/// Each batch is split across `threads` workers; every worker decodes, preprocesses
/// (NHWC) and runs its share through the network with single-threaded BLAS, so the two
/// thread pools never compete for the cores.
public struct Embedder: Sendable {
    public let network: any ImageNetwork
    public let preprocessing: Preprocessing
    public let batchSize: Int
    public let threads: Int

    public init(network: any ImageNetwork, preprocessing: Preprocessing, batchSize: Int = 128, threads: Int = 2) {
        precondition(batchSize > 0 && threads > 0, "batch size and threads must be positive")
        self.network = network
        self.preprocessing = preprocessing
        self.batchSize = batchSize
        self.threads = threads
    }

    /// The embedding length.
    public var dimension: Int { network.outputDimension }

    /// Embeds `dataset` (or `dataset.limited(to: limit)`, rows spread evenly over the set)
    /// into a matrix of one raw embedding per row, showing a progress line unless `progress` is false.
    /// A row holding NaN or infinity (weights that overflow) is an error naming the image.
    public func embed(_ dataset: any ImageDataset, limit: Int? = nil, progress: Bool = true) throws -> Matrix {
        let source = limit.map { dataset.limited(to: $0) } ?? dataset
        try Self.checkMemory(rows: source.count, dimension: dimension, name: source.name)
        let report = progress ? Common.Progress("embed \(source.name)", total: source.count, unit: "images") : nil
        let side = preprocessing.size
        let matrix = try embed(count: source.count, report: report) { try source.image(at: $0, fitting: side) }
        report?.finish(note: network.isRandom ? "random weights" : "")
        if let row = Self.firstNonFiniteRow(matrix) {
            throw FileError(
                source.name, "the embedding of image \(row) holds NaN or infinity (the weights overflow on it); nothing written")
        }
        return matrix
    }

    /// Throws unless `rows` embeddings of `dimension` floats fit in half of this machine's
    /// memory (they are held whole until written), before anything is allocated.
    public static func checkMemory(rows: Int, dimension: Int, name: String) throws {
        let budget = ProcessInfo.processInfo.physicalMemory / 2
        let (floats, overflow) = rows.multipliedReportingOverflow(by: dimension)
        let bytes = overflow ? nil : floats.multipliedReportingOverflow(by: MemoryLayout<Float>.size)
        guard let bytes, !bytes.overflow, UInt64(bytes.partialValue) <= budget else {
            let needed = overflow ? "more than \(Int.max) floats" : String(format: "%.1f GB", Double(floats) * 4 / 1e9)
            throw FileError(
                name,
                "\(rows) embeddings of \(dimension) floats need \(needed), more than half of this machine's "
                    + "\(ProcessInfo.processInfo.physicalMemory >> 30) GiB: embed the set in parts (--shard I/N)", kind: .tooLarge
            )
        }
    }

    /// The first row of `matrix` with a NaN or infinite value, or nil.
    static func firstNonFiniteRow(_ matrix: Matrix) -> Int? {
        guard matrix.columns > 0 else { return nil }
        return matrix.values.firstIndex { !$0.isFinite }.map { $0 / matrix.columns }
    }

    /// Embeds images held in memory.
    public func embed(_ images: [RGBImage]) -> Matrix {
        // The closure cannot throw, so neither can the call.
        (try? embed(count: images.count, report: nil) { images[$0] }) ?? Matrix(rows: 0, columns: dimension, values: [])
    }

    private func embed(count: Int, report: Common.Progress?, image: @Sendable @escaping (Int) throws -> RGBImage) throws -> Matrix
    {
        let dimension = self.dimension
        // Set (and restore) OpenBLAS's process-wide count only when it is not 1 already, so
        // that a server which set it once never has it changed under concurrent requests.
        let savedThreads = openblas_get_num_threads()
        if savedThreads != 1 { openblas_set_num_threads(1) }
        defer { if savedThreads != 1 { openblas_set_num_threads(savedThreads) } }
        var failure: (any Error)?
        let values = [Float](unsafeUninitializedCapacity: count * dimension) { buffer, initialized in
            let output = buffer.baseAddress.map(SharedPointer.init)
            var start = 0
            while start < count && failure == nil {
                let batch = min(batchSize, count - start)
                let base = start
                // Fewer images than threads (one upload): each image's matrix products use the spare threads.
                let split = threads / min(threads, batch)
                do {
                    try forEachChunk(batch, chunks: min(threads, batch), threads: threads) { _, part in
                        try RowSplit.with(split) {
                            try run(
                                base + part.lowerBound..<base + part.upperBound, image: image, into: output, dimension: dimension)
                        }
                    }
                } catch {
                    failure = error
                }
                start += batch
                report?.advance(by: batch)
            }
            if failure != nil { buffer.initialize(repeating: 0) }
            initialized = count * dimension
        }
        if let failure { throw failure }
        return Matrix(rows: count, columns: dimension, values: values)
    }

    /// Embeds rows `range` on the calling thread, in forward passes small enough to keep memory bounded.
    private func run(_ range: Range<Int>, image: (Int) throws -> RGBImage, into output: SharedPointer<Float>?, dimension: Int)
        throws
    {
        let size = preprocessing.size
        // 2^18 input pixels per pass keeps the widest activation (EfficientNet's 96-channel
        // maps at half the input side) under glibc's 32 MiB mmap ceiling, so buffers are reused
        // instead of page-faulted in afresh for every layer.
        let perPass = max(1, min(range.count, (1 << 18) / (size * size)))
        var start = range.lowerBound
        while start < range.upperBound {
            let n = min(perPass, range.upperBound - start)
            let images = try (start..<start + n).map(image)
            let input = Tensor(batch: n, height: size, width: size, channels: 3) { x in
                for (i, picture) in images.enumerated() { preprocessing.write(picture, to: x + i * preprocessing.valuesPerImage) }
            }
            let embeddings = network(input)
            embeddings.withUnsafeBufferPointer { source in
                guard let source = source.baseAddress, let destination = output?.base else { return }
                (destination + start * dimension).update(from: source, count: n * dimension)
            }
            start += n
        }
    }
}
