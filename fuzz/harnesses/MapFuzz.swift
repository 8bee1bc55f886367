import Common
import Foundation

/// libFuzzer entry: the map files of the search page (a layout and, optionally, clusters), as
/// `CollectionMap.read` checks them for an index of 12 rows, then encoded as the page fetches it.
///
/// The input is the layout's length (2 bytes, little-endian), the layout `.npy`, then the
/// clusters `.npy` (absent when nothing follows).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMap(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
    guard bytes.count >= 2 else { return 0 }
    let length = min(Int(bytes[0]) | Int(bytes[1]) << 8, bytes.count - 2)
    let layout = Data(bytes[2..<2 + length]), rest = Data(bytes[(2 + length)...])
    let rows = 12
    guard
        let xy = try? NPY.decode(
            layout, path: "layout.npy", expected: NPY.Expected(.float32, shape: [rows, 2], meaning: "fuzz"))
    else { return 0 }
    var clusters: [Int]?
    if !rest.isEmpty {
        guard
            let read = try? NPY.decode(
                rest, path: "clusters.npy", expected: NPY.Expected(.int64, shape: [rows], meaning: "fuzz"))
        else { return 0 }
        clusters = read.ints
    }
    if let map = try? CollectionMap(xy: xy.floats, clusters: clusters, source: "layout.npy", clustersSource: "clusters.npy") {
        _ = map.encoded(labels: (0..<rows).map { $0 % 3 })
    }
    return 0
}
