import Foundation

/// Computes `body(0) ... body(count - 1)` on all cores and returns the results in order.
///
/// Work is handed out in contiguous chunks, so `body` should be independent per index.
func parallelMap<T>(_ count: Int, _ body: (Int) -> T) -> [T] {
    [T](unsafeUninitializedCapacity: count) { output, initialized in
        parallelChunks(count) { range in
            for index in range { (output.baseAddress! + index).initialize(to: body(index)) }
        }
        initialized = count
    }
}

/// Calls `body` on disjoint chunks that cover `0..<count`, in parallel on all cores.
func parallelChunks(_ count: Int, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let chunkSize = max(1, min(256, count / (4 * max(1, cores))))
    let chunks = (count + chunkSize - 1) / chunkSize
    withoutActuallyEscaping(body) { body in
        let work = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            work.value(chunk * chunkSize..<min(count, (chunk + 1) * chunkSize))
        }
    }
}

/// Hands a value to `concurrentPerform`, whose callers guarantee disjoint use per index.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value

    init(_ value: Value) { self.value = value }
}
