/// A preprocessing preset by name: the notebook's CIFAR-10 input for every network, or the
/// network's own ImageNet input (`Model.preprocessing(preset:)` gives the numbers).
public enum Preset: String, CaseIterable, Sendable, Codable {
    /// 32x32, mean and standard deviation 0.5 (the notebook's setting).
    case cifar
    /// The network's native size and normalization.
    case imagenet
}
