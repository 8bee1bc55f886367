import Common
import Foundation
import VectorSearch

/// Writing an index with its sidecars: the description (`<index>.json`) and labels (`<index>.labels.npy`).
enum IndexFiles {
    /// Writes `index`, its description and its labels together, atomically; a sidecar the new
    /// index has no use for is removed, never left describing it.
    static func save(_ index: VectorIndex, description: IndexDescription?, labels: [Int]?, to output: String) throws {
        try AtomicFile.writeSet(primary: output) { files in
            try files.add(output, index.write(to:))
            let descriptionPath = IndexDescription.path(forIndex: output)
            if let description {
                try files.add(try description.encoded(), to: descriptionPath)
            } else {
                files.remove(descriptionPath)
            }
            let labelsSidecar = EmbeddingFile.sidecar(ofIndex: output)
            if let labels { try files.add(NPY.encode(labels), to: labelsSidecar) } else { files.remove(labelsSidecar) }
        }
    }
}
