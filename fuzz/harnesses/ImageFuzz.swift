import ImageData

/// libFuzzer entry: JPEG/PNG header reading and decoding (full size and DCT-scaled) under
/// a 4-megapixel cap, as an upload would be decoded.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImage(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let cap = 1 << 22
    guard (try? ImageDecoder.header(of: bytes, path: "fuzz", maxPixels: cap)) != nil else { return 0 }
    if let image = try? ImageDecoder.decode(bytes, path: "fuzz", fitting: 16, maxPixels: cap) {
        precondition(image.pixels.count == image.width * image.height * 3)
    }
    _ = try? ImageDecoder.decode(bytes, path: "fuzz", maxPixels: cap)
    return 0
}
