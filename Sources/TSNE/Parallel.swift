import Dispatch

/// Runs `body(chunk, range)` over `0..<count` split into `chunks` contiguous ranges, on up to `threads` threads.
///
/// The split depends only on `count` and `chunks`, never on how many threads run it, so
/// per-chunk partial results reduced in chunk order are identical from run to run.
func forEachChunk(_ count: Int, chunks: Int, threads: Int, _ body: (_ chunk: Int, _ range: Range<Int>) -> Void) {
    let chunks = max(1, chunks)
    withoutActuallyEscaping(body) { body in
        let task = UncheckedTask(body: body)
        let run = { @Sendable (c: Int) in task.body(c, count * c / chunks..<count * (c + 1) / chunks) }
        if threads <= 1 || chunks == 1 {
            for c in 0..<chunks { run(c) }
        } else {
            DispatchQueue.concurrentPerform(iterations: chunks, execute: run)
        }
    }
}

/// A raw pointer that parallel chunks share; each chunk touches a disjoint part.
struct SharedPointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
}

/// A chunk body handed to worker threads; the caller guarantees chunks touch disjoint memory.
private struct UncheckedTask: @unchecked Sendable {
    let body: (Int, Range<Int>) -> Void
}
