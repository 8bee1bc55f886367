import Common
import Download

/// Why a model or its weights cannot be had, apart from problems of a weight file itself
/// (those are `FileError`s naming the file).
public enum NetworksError: Error, CustomStringConvertible {
    /// torchvision publishes no checkpoint of this model.
    case noTorchvisionCheckpoint(Model)
    /// The checkpoint download could not connect or was cut off.
    case downloadFailed(DownloadError)

    public var description: String {
        switch self {
        case .noTorchvisionCheckpoint(let model):
            "torchvision has no \(model.displayName) checkpoint; pass --weights PATH (see the README for where to get it)"
        case .downloadFailed(let error): "\(error); no network? Pass --weights PATH to a local copy"
        }
    }
}
