import Common
import Foundation

/// libFuzzer entry: the `.npy` reader, then the element views of what it accepts.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let array = try? NPY.decode(Data(bytes: data, count: size), path: "fuzz.npy") {
        _ = array.dtype == .float32 ? array.floats.count : array.ints.count
    }
    return 0
}
