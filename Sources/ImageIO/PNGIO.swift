// PNG reading and writing on libpng's simplified png_image API, with s2c's input policy.
//
// Policy (also in README.md): 8-bit RGB as is; palette expanded to RGB; 1/2/4/8-bit gray kept
// gray (flag set, channel replicated); RGBA and gray+alpha (or tRNS) accepted only when every
// alpha is 255; 16-bit refused; colour-space chunks (gAMA, cHRM, sRGB, iCCP) ignored.
import _CLibPNG

/// PNG files to and from `RGBImage`.
public enum PNGIO {
    // png_image format flags (png.h PNG_FORMAT_FLAG_*), spelled out because the composite
    // PNG_FORMAT_* macros do not import into Swift.
    private static let flagAlpha: UInt32 = 0x01
    private static let flagColor: UInt32 = 0x02

    /// Reads the PNG file at `path` ("-" reads stdin).
    public static func read(path: String) throws -> RGBImage {
        let bytes = try FileIO.readAll(path: path)
        return try read(data: bytes, name: path == "-" ? "<stdin>" : path)
    }

    /// Decodes PNG bytes; `name` is the file name used in error messages.
    public static func read(data: [UInt8], name: String) throws -> RGBImage {
        let header = try PNGHeader.parse(data, name: name)
        if header.bitDepth == 16 {
            throw ImageIOError.unsupported(path: name, detail:
                "16-bit PNG; s2c codes 8-bit images only (reduce it first, e.g. `magick in.png -depth 8 out.png`)")
        }
        let clean = PNGHeader.strippingColorSpaceChunks(data)

        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }

        let w = header.width, h = header.height
        var hasAlpha = header.hasAlphaChannel || header.hasTransparencyChunk
        let raw: [UInt8] = try clean.withUnsafeBytes { buf in
            guard png_image_begin_read_from_memory(&image, buf.baseAddress, buf.count) != 0 else {
                throw ImageIOError.corrupt(path: name, detail: message(of: image))
            }
            guard Int(image.width) == w, Int(image.height) == h else {
                throw ImageIOError.corrupt(path: name, detail: "libpng disagrees about the image size")
            }
            // Ask for an alpha channel whenever the file may have one, so libpng never composes
            // onto a background; we check it and drop it below.
            hasAlpha = hasAlpha || (image.format & flagAlpha) != 0
            image.format = (header.isGrayscale ? 0 : flagColor) | (hasAlpha ? flagAlpha : 0)
            let channels = (header.isGrayscale ? 1 : 3) + (hasAlpha ? 1 : 0)
            var out = [UInt8](repeating: 0, count: w * h * channels)
            let ok = out.withUnsafeMutableBytes { dst in
                png_image_finish_read(&image, nil, dst.baseAddress, 0, nil)
            }
            guard ok != 0 else { throw ImageIOError.corrupt(path: name, detail: message(of: image)) }
            return out
        }

        let channels = raw.count / (w * h)
        if hasAlpha, let (pixel, alpha) = firstTransparent(raw, channels: channels) {
            throw ImageIOError.unsupported(path: name, detail:
                "has transparency; s2c codes opaque images only "
                + "(pixel \(pixel % w),\(pixel / w) has alpha \(alpha); flatten it onto a background first)")
        }
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        let colors = header.isGrayscale ? 1 : 3
        raw.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for p in 0..<(w * h) {
                    for c in 0..<3 { dst[p * 3 + c] = src[p * channels + (colors == 1 ? 0 : c)] }
                }
            }
        }
        return RGBImage(width: w, height: h, isGrayscale: header.isGrayscale, pixels: pixels)
    }

    /// Encodes as an 8-bit PNG: RGB, or gray when `isGrayscale` (then R, G and B must be equal).
    public static func encode(_ img: RGBImage) throws -> [UInt8] {
        let w = img.width, h = img.height
        guard (1...ImageLimits.maxSide).contains(w), (1...ImageLimits.maxSide).contains(h),
              w * h <= ImageLimits.maxPixels else {
            throw ImageIOError.invalidImage(detail: "size \(w)x\(h) out of range")
        }
        guard img.pixels.count == w * h * 3 else {
            throw ImageIOError.invalidImage(detail: "\(img.pixels.count) bytes for \(w)x\(h) RGB")
        }
        var samples = img.pixels
        if img.isGrayscale {
            samples = [UInt8](repeating: 0, count: w * h)
            for p in 0..<(w * h) {
                let r = img.pixels[p * 3]
                guard img.pixels[p * 3 + 1] == r, img.pixels[p * 3 + 2] == r else {
                    throw ImageIOError.invalidImage(detail: "grayscale image has unequal R, G, B at pixel \(p % w),\(p / w)")
                }
                samples[p] = r
            }
        }
        // A buffer for the worst case, so that the image is compressed once: the raw samples, a filter
        // byte per row, deflate's stored-block overhead (5 bytes per 16 KiB) and the chunks around them
        // (libpng still reports the exact size if it were short).
        var capacity = samples.count + h + samples.count / 3000 + 65536
        for _ in 0..<2 {
            var image = png_image()
            image.version = UInt32(PNG_IMAGE_VERSION)
            image.width = UInt32(w)
            image.height = UInt32(h)
            image.format = img.isGrayscale ? 0 : flagColor
            var out = [UInt8](repeating: 0, count: capacity)
            var size = png_alloc_size_t(capacity)
            let ok = out.withUnsafeMutableBytes { dst in
                samples.withUnsafeBytes { src in
                    png_image_write_to_memory(&image, dst.baseAddress, &size, 0, src.baseAddress, 0, nil)
                }
            }
            defer { png_image_free(&image) }
            if ok != 0 {
                out.removeSubrange(Int(size)...)
                return out
            }
            guard Int(size) > capacity else {
                throw ImageIOError.invalidImage(detail: "libpng could not encode: \(message(of: image))")
            }
            capacity = Int(size)
        }
        throw ImageIOError.invalidImage(detail: "libpng kept asking for a larger buffer")
    }

    /// Encodes and writes atomically to `path` ("-" writes stdout), never over `input`.
    public static func write(_ img: RGBImage, to path: String, notOver input: String? = nil) throws {
        try AtomicFile.write(try encode(img), to: path, notOver: input)
    }

    /// Index and alpha of the first pixel whose alpha (last channel) is not 255, if any.
    private static func firstTransparent(_ raw: [UInt8], channels: Int) -> (Int, UInt8)? {
        raw.withUnsafeBufferPointer { src in
            var i = channels - 1
            while i < src.count {
                if src[i] != 255 { return (i / channels, src[i]) }
                i += channels
            }
            return nil
        }
    }

    /// libpng's error or warning text stored in the png_image.
    private static func message(of image: png_image) -> String {
        var m = image.message
        let text = withUnsafeBytes(of: &m) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return text.isEmpty ? "libpng reported an error" : text
    }
}
