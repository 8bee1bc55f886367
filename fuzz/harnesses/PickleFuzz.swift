import Common
import PythonPickle

/// libFuzzer entry: the restricted pickle reader with the NumPy allowlist, then the
/// pickled-array reader on whatever it returns. Errors are fine; crashes are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPickle(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let value = try? Pickle.load(bytes, path: "fuzz.pkl", allowlist: Pickle.numpyGlobals) {
        _ = try? PickledArray(value, path: "fuzz.pkl")
        if case .dict(let dict) = value { _ = try? PickledArray(dict["data"], path: "fuzz.pkl") }
    }
    return 0
}
