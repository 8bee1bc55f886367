/// A set of images with optional labels, read one image at a time by row.
///
/// Row `i` is always the same image: loaders fix a deterministic order (sorted class
/// folders, then sorted file names; CIFAR batches in file order), so row `i` of every
/// output (embeddings, labels, neighbors) names a known image.
public protocol ImageDataset: Sendable {
    /// A short human-readable name ("cifar10-jpeg/train").
    var name: String { get }
    /// The number of images.
    var count: Int { get }
    /// One label per image (an index into `classNames`), or nil for an unlabeled set.
    var labels: [Int]? { get }
    /// Class names in label order (empty for an unlabeled set).
    var classNames: [String] { get }
    /// One id per image: a file path, or "archive-member#row" for CIFAR batches.
    var ids: [String] { get }
    /// A SHA-256 over what determines the content (ids, sizes, labels, bytes where cheap).
    var fingerprint: String { get }
    /// Decodes image `index` as RGB at its stored size.
    func image(at index: Int) throws -> RGBImage
}
