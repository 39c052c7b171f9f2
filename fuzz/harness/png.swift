// png.swift: libFuzzer harness for the PNG reader (Sources/ImageIO/PNGIO.swift, PNGHeader.swift)
// on libpng's simplified API: PNGIO.read(data:name:) on the input. A successful read must give
// width * height * 3 bytes within the documented limits (gray: R = G = B), encode with
// PNGIO.encode and read back to the same image.
import ImageIO

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = inputBytes(data, size)
    _ = try? PNGHeader.parse(bytes, name: "fuzz.png")
    guard let img = try? PNGIO.read(data: bytes, name: "fuzz.png") else { return 0 }
    guard img.width >= 1, img.height >= 1, img.width <= ImageLimits.maxSide, img.height <= ImageLimits.maxSide,
          img.width * img.height <= ImageLimits.maxPixels, img.pixels.count == 3 * img.width * img.height else {
        finding("read a \(img.width)x\(img.height) image with \(img.pixels.count) bytes")
    }
    if img.isGrayscale {
        for p in 0..<(img.width * img.height) where img.pixels[3 * p] != img.pixels[3 * p + 1] || img.pixels[3 * p] != img.pixels[3 * p + 2] {
            finding("gray image with unequal R, G, B at pixel \(p)")
        }
    }
    guard let png = try? PNGIO.encode(img) else { finding("a read image does not encode") }
    guard let back = try? PNGIO.read(data: png, name: "again.png"), back == img else {
        finding("an encoded image does not read back the same")
    }
    return 0
}
