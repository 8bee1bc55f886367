import SearchService

/// libFuzzer entry: the multipart/form-data parser. The input's first line is the
/// boundary, the rest the body; every part found must lie within the body.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMultipart(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let newline = bytes.firstIndex(of: 10) ?? bytes.count
    let boundary = String(decoding: bytes[..<newline], as: UTF8.self)
    let body = Array(bytes[min(newline + 1, bytes.count)...])
    if let parts = try? Multipart.parts(of: body, boundary: boundary) {
        precondition(parts.reduce(0) { $0 + $1.body.count } <= body.count)
    }
    return 0
}
