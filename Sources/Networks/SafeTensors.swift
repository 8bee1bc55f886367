import Common
import Foundation

/// The safetensors format: an 8-byte little-endian header length, a JSON header mapping
/// each name to `{dtype, shape, data_offsets}`, then the raw little-endian data.
enum SafeTensors {
    /// Decodes every tensor; `path` names the file in errors.
    static func decode(_ data: Data, path: String) throws -> [String: NamedTensor] {
        guard data.count >= 8 else {
            throw FileError(path, "not a torch checkpoint or safetensors file (only \(data.count) bytes)")
        }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw FileError(
                path,
                "safetensors header length \(headerLength) is larger than the file (\(data.count) bytes); truncated or not a weight file",
                kind: .truncated)
        }
        let headerEnd = 8 + Int(headerLength)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: data.subdata(in: data.startIndex + 8..<data.startIndex + headerEnd))
        } catch {
            throw FileError(path, "not a torch checkpoint or safetensors file (header is not JSON)")
        }
        guard let header = json as? [String: Any] else { throw FileError(path, "safetensors header is not a JSON object") }
        let payload = data.count - headerEnd
        var tensors: [String: NamedTensor] = [:]
        var extents: [(name: String, range: Range<Int>)] = []
        try data.withUnsafeBytes { raw in
            for (name, entry) in header where name != "__metadata__" {
                guard let entry = entry as? [String: Any], let type = entry["dtype"] as? String,
                    let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
                else { throw FileError(path, "safetensors entry \(name) is malformed") }
                guard let size = WeightFile.elementSize(type) else {
                    throw FileError(path, "tensor \(name) has element type \(type); only F32, F64, F16 and BF16 are supported")
                }
                let begin = offsets[0], end = offsets[1]
                guard begin >= 0, begin <= end, end <= payload else {
                    throw FileError(
                        path,
                        "tensor \(name) lies at bytes \(begin)..<\(end) but only \(payload) data bytes follow the header (truncated?)",
                        kind: .truncated)
                }
                let count = shape.reduce(Optional(size)) { total, dimension in
                    guard let total, dimension >= 0 else { return nil }
                    let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
                    return overflow ? nil : product
                }
                guard count == end - begin else {
                    throw FileError(
                        path, "tensor \(name) of shape \(shape) and type \(type) does not fill its \(end - begin) bytes")
                }
                extents.append((name, begin..<end))
                let bytes = UnsafeRawBufferPointer(rebasing: raw[headerEnd + begin..<headerEnd + end])
                tensors[name] = NamedTensor(
                    shape: shape, values: try WeightFile.floats(bytes, type: type, path: path, name: name))
            }
        }
        let ordered = extents.filter { !$0.range.isEmpty }.sorted { $0.range.lowerBound < $1.range.lowerBound }
        for (earlier, later) in zip(ordered, ordered.dropFirst()) where later.range.lowerBound < earlier.range.upperBound {
            throw FileError(
                path, "tensors \(earlier.name) and \(later.name) overlap in the data (bytes \(earlier.range) and \(later.range))")
        }
        return tensors
    }
}
