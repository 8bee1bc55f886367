import CollectionStore
import Common
import Foundation
import NIOCore

/// The collection `pic2vec serve` answers from: one engine and map at a time, replaced whole
/// (between requests: each request reads `current` once) when the collection on disk commits a
/// new generation (`pic2vec add`, `pic2vec remove`).
public final class LiveCollection: @unchecked Sendable {
    /// One generation of the collection, as every route answers from it.
    public struct State: Sendable {
        public let engine: SearchEngine
        public let map: CollectionMap?
        /// The map as `/api/map` sends it.
        let mapBytes: ByteBuffer?
        /// The description's generation the engine was opened at.
        public let generation: Int

        public init(engine: SearchEngine, map: CollectionMap?, generation: Int) {
            precondition(map.map { $0.count == engine.count } ?? true, "the map must hold one point per index row")
            self.engine = engine
            self.map = map
            mapBytes = map.map { ByteBuffer(bytes: $0.encoded(labels: engine.dataset.labels)) }
            self.generation = generation
        }
    }

    private let lock = NSLock()
    private var state: State

    public init(_ state: State) { self.state = state }

    /// The generation answering now.
    public var current: State { lock.withLock { state } }

    /// Follows the collection of the index at `index` until the task is cancelled: every
    /// `interval` it reads the description's generation and, when it differs from the one
    /// answering, opens the collection again with `open` (the old one answers meanwhile) and
    /// swaps it in, unless a commit was under way or came in between (then it tries again at the
    /// next tick). Failures are reported through `log` once per generation, never thrown.
    public func follow(
        index: String, interval: Duration = .milliseconds(500), open: @Sendable () async throws -> State,
        log: @Sendable (String) -> Void
    ) async {
        let files = CollectionFiles(index: index)
        var reported: Int?
        func committed() -> Int? {
            guard !AtomicFile.isCommitting(index) else { return nil }
            return try? files.readDescription()?.generationNumber
        }
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard let seen = committed(), seen != current.generation else { continue }
            do {
                let opened = try await open()
                guard opened.generation == seen, committed() == seen else { continue }
                lock.withLock { state = opened }
                log("generation \(seen): \(opened.engine.count) images")
            } catch {
                if reported != seen { log("generation \(seen) not opened yet: \(error)") }
                reported = seen
            }
        }
    }
}
