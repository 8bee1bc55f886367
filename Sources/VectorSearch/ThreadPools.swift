internal import CBLAS
internal import CFAISS
import Foundation

/// Thread counts for the two pools in this process: FAISS's OpenMP and OpenBLAS's pthreads.
///
/// On a small machine both pools running at once oversubscribe the cores, so every
/// entry point sets both explicitly before it works: one pool gets all threads, the other one.
public enum ThreadPools {
    /// The cores this process may use.
    public static var cores: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// FAISS parallelizes (OpenMP, `threads`), OpenBLAS stays single-threaded.
    static func useFAISS(threads: Int) {
        openblas_set_num_threads(1)
        pv_faiss_set_threads(Int32(threads))
    }

    /// Our own workers call BLAS concurrently: both libraries single-threaded.
    ///
    /// A server calls it once at start-up, before requests run concurrently.
    public static func useOwnWorkers() {
        openblas_set_num_threads(1)
        pv_faiss_set_threads(1)
    }
}
