import Dispatch
import Foundation

/// Computes `body(0) ... body(count - 1)` on all cores and returns the results in index order.
///
/// Work is handed out in contiguous chunks of at most 256 indices, so `body` should be
/// independent per index. To report the first failure in index order, return `Result`s
/// and look at them in order afterwards.
public func parallelMap<T>(_ count: Int, _ body: (Int) -> T) -> [T] {
    guard count > 0 else { return [] }
    let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
    let chunkSize = max(1, min(256, count / (4 * cores)))
    return [T](unsafeUninitializedCapacity: count) { output, initialized in
        let shared = SharedPointer(output.baseAddress!)
        forEachChunk(count, chunks: (count + chunkSize - 1) / chunkSize, threads: cores) { _, range in
            for index in range { (shared.base + index).initialize(to: body(index)) }
        }
        initialized = count
    }
}

/// Runs `body(chunk, range)` over `0..<count` split into `chunks` contiguous ranges, on up to `threads` threads.
///
/// Chunk `c` covers `count * c / chunks ..< count * (c + 1) / chunks`. The split depends only
/// on `count` and `chunks`, never on how many threads run it, so per-chunk partial results
/// reduced in chunk order are identical from run to run. With `threads <= 1` (or one chunk)
/// the chunks run in order on the calling thread. Chunks must touch disjoint memory.
///
/// When chunks throw, every chunk still runs and the error of the lowest-numbered failing
/// chunk is rethrown, so which error surfaces does not depend on timing.
public func forEachChunk<Failure: Error>(
    _ count: Int, chunks: Int, threads: Int, _ body: (_ chunk: Int, _ range: Range<Int>) throws(Failure) -> Void
) throws(Failure) {
    let chunks = max(1, chunks)
    let failures = ScratchBuffer<Failure?>(repeating: nil, count: chunks)
    withoutActuallyEscaping(body) { body in
        let task = UncheckedSendable(body)
        let run = { @Sendable (c: Int) in
            do throws(Failure) {
                try task.value(c, count * c / chunks..<count * (c + 1) / chunks)
            } catch {
                failures[c] = error
            }
        }
        if threads <= 1 || chunks == 1 {
            for c in 0..<chunks { run(c) }
        } else {
            DispatchQueue.concurrentPerform(iterations: chunks, execute: run)
        }
    }
    for c in 0..<chunks { if let failure = failures[c] { throw failure } }
}

/// Runs `body(worker, items)` on `workers` threads, worker `w` taking items `w, w + workers, ...` of `0..<count`.
///
/// For work whose items differ in cost (interleaving balances them) or that keeps
/// per-worker scratch space across items. Items must touch disjoint memory.
public func forEachInterleaved(_ count: Int, workers: Int, _ body: (_ worker: Int, _ items: StrideTo<Int>) -> Void) {
    let workers = max(1, workers)
    withoutActuallyEscaping(body) { body in
        let task = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            task.value(worker, stride(from: worker, to: count, by: workers))
        }
    }
}

/// Memory owned elsewhere that parallel workers share; each worker touches a disjoint part of it.
/// (Scratch memory a pass owns is a `ScratchBuffer`.)
public struct SharedPointer<Element>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Element>

    /// Shares memory owned elsewhere, alive for as long as this value is used.
    public init(_ base: UnsafeMutablePointer<Element>) { self.base = base }
}

/// Hands a closure to worker threads; the callers above guarantee disjoint use per chunk.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value

    init(_ value: Value) { self.value = value }
}
