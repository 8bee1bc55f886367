import Dispatch

/// Runs CPU-heavy request work on one dedicated thread, one job at a time (a lane).
///
/// Hummingbird answers every route from Swift's cooperative thread pool (one thread per
/// core); a long decode or embedding there stalls all routes. Jobs queued here wait their
/// turn instead, and only one image is decoded on a lane at any moment.
final class BlockingWork: Sendable {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    /// Runs `job` on the queue and returns its result (or its error) to the awaiting task.
    func run<T: Sendable>(_ job: @escaping @Sendable () throws(SearchError) -> T) async throws(SearchError) -> T {
        let result: Result<T, SearchError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result { () throws(SearchError) -> T in try job() })
            }
        }
        return try result.get()
    }
}
