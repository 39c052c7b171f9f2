// PNG reading on libpng's simplified png_image API, with s2c's input policy; PNG writing with
// zlib (Paeth rows, run-length deflate).
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

    /// A parallel for-loop the caller may supply: runs `body(i)` for every i in 0..<n, in any order,
    /// at once or not, and returns when all have run.
    public typealias ParallelFor = (_ n: Int, _ body: (Int) -> Void) -> Void

    /// Runs the bodies one after another.
    public static func serial(_ n: Int, _ body: (Int) -> Void) { for i in 0..<n { body(i) } }

    /// Filtered bytes per deflate chunk. The chunks depend on the image only, so the file's bytes
    /// do not depend on how many threads `parallel` runs them on.
    static let chunkBytes = 1 << 18

    /// Encodes as an 8-bit PNG: RGB, or gray when `isGrayscale` (then R, G and B must be equal).
    /// The rows are filtered and deflated in chunks of about 256 KiB, each an independent run of
    /// `parallel`'s body (pigz's layout: one zlib stream, its deflate data the chunks' raw deflate
    /// data, each but the last ended by a sync flush).
    public static func encode(_ img: RGBImage, parallel: ParallelFor = serial) throws -> [UInt8] {
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
        let channels = img.isGrayscale ? 1 : 3
        let stride = w * channels + 1                       // a row behind its filter byte
        let rowsPerChunk = max(1, chunkBytes / stride)
        let chunks = (h + rowsPerChunk - 1) / rowsPerChunk
        var filtered = [UInt8](repeating: 0, count: stride * h)
        // Each chunk's deflate data and Adler-32, written only by that chunk's body.
        let parts = UnsafeMutableBufferPointer<(data: [UInt8], adler: uLong, count: Int)?>.allocate(capacity: chunks)
        parts.initialize(repeating: nil)
        defer { parts.deinitialize(); parts.deallocate() }
        samples.withUnsafeBufferPointer { src in
            filtered.withUnsafeMutableBufferPointer { dst in
                let (src, dst) = (src.baseAddress!, dst.baseAddress!)
                parallel(chunks) { i in
                    let y0 = i * rowsPerChunk, y1 = min(h, y0 + rowsPerChunk)
                    paethFilter(src, dst, width: w, channels: channels, rows: y0..<y1)
                    let bytes = UnsafeBufferPointer(start: dst + y0 * stride, count: (y1 - y0) * stride)
                    parts[i] = deflateRaw(bytes, last: i == chunks - 1).map {
                        ($0, adler32(1, bytes.baseAddress, uInt(bytes.count)), bytes.count)
                    }
                }
            }
        }
        var idat: [UInt8] = [0x78, 0x01]        // zlib header: deflate, 32 KiB window, check bits
        var adler: uLong = 1
        for i in 0..<chunks {
            guard let part = parts[i] else { throw ImageIOError.invalidImage(detail: "zlib could not compress the image") }
            idat += part.data
            adler = adler32_combine(adler, part.adler, off_t(part.count))
        }
        appendBE32(&idat, UInt32(truncatingIfNeeded: adler))
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png.reserveCapacity(idat.count + 64)
        var ihdr = [UInt8]()
        appendBE32(&ihdr, UInt32(w))
        appendBE32(&ihdr, UInt32(h))
        ihdr += [8, img.isGrayscale ? 0 : 2, 0, 0, 0]   // 8-bit, gray or RGB, deflate, adaptive filters, no interlace
        appendChunk(&png, "IHDR", ihdr)
        appendChunk(&png, "IDAT", idat)
        appendChunk(&png, "IEND", [])
        return png
    }

    /// PNG rows `rows` of the image, each behind its filter byte, Paeth-filtered (filter type 4).
    /// One fixed filter and zlib's run-length strategy: measured on decoded Kodak images, as small as
    /// libpng's default (adaptive filters, zlib level 6) and about 10x faster (docs/results.md, "PNG
    /// writer and model load").
    private static func paethFilter(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<UInt8>,
                                    width w: Int, channels bpp: Int, rows: Range<Int>) {
        let stride = w * bpp
        for y in rows {
            let row = src + y * stride
            let o = dst + y * (stride + 1)
            o[0] = 4
            if y == 0 {   // no row above: Paeth reduces to the left neighbour
                for x in 0..<stride { o[1 + x] = row[x] &- (x >= bpp ? row[x - bpp] : 0) }
                continue
            }
            let up = row - stride
            for x in 0..<bpp { o[1 + x] = row[x] &- up[x] }
            for x in bpp..<stride {
                let a = Int(row[x - bpp]), b = Int(up[x]), c = Int(up[x - bpp])
                let pa = abs(b - c), pb = abs(a - c), pc = abs(a + b - 2 * c)
                let pred = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c)
                o[1 + x] = row[x] &- UInt8(truncatingIfNeeded: pred)
            }
        }
    }

    /// Raw deflate data of `data` (Z_RLE strategy), ended by a sync flush (byte-aligned, not
    /// final) or, when `last`, by the final block; nil if zlib fails.
    private static func deflateRaw(_ data: UnsafeBufferPointer<UInt8>, last: Bool) -> [UInt8]? {
        var strm = z_stream()
        guard deflateInit2_(&strm, 6, Z_DEFLATED, -15, 8, Z_RLE, zlibVersion(),
                            Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { deflateEnd(&strm) }
        // deflateBound covers the final block; a sync flush adds at most an empty stored block.
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&strm, uLong(data.count))) + 16)
        let status = out.withUnsafeMutableBufferPointer { dst in
            strm.next_in = UnsafeMutablePointer(mutating: data.baseAddress)
            strm.avail_in = uInt(data.count)
            strm.next_out = dst.baseAddress
            strm.avail_out = uInt(dst.count)
            return deflate(&strm, last ? Z_FINISH : Z_SYNC_FLUSH)
        }
        guard last ? status == Z_STREAM_END : (status == Z_OK && strm.avail_in == 0 && strm.avail_out > 0) else {
            return nil
        }
        out.removeSubrange(Int(strm.total_out)...)
        return out
    }

    private static func appendBE32(_ out: inout [UInt8], _ v: UInt32) {
        out += [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8),
                UInt8(truncatingIfNeeded: v)]
    }

    /// length, type, data, CRC-32 of type + data.
    private static func appendChunk(_ out: inout [UInt8], _ type: String, _ data: [UInt8]) {
        appendBE32(&out, UInt32(data.count))
        let start = out.count
        out += Array(type.utf8)
        out += data
        let crc = out.withUnsafeBufferPointer { buf in
            crc32(0, buf.baseAddress! + start, uInt(out.count - start))
        }
        appendBE32(&out, UInt32(crc))
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
