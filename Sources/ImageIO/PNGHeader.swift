// PNG signature, IHDR and chunk-list inspection done by hand, before libpng sees the bytes.
//
// We read the header ourselves for two reasons: libpng's simplified API converts everything
// to the requested format and hides what the file really was (16-bit, alpha, palette), and
// absurd dimensions must be refused before any pixel buffer is allocated.

/// What a PNG file's IHDR and ancillary chunks say about its stored format.
public struct PNGHeader: Equatable, Sendable {
    /// PNG colour types (IHDR byte 9); values fixed by the PNG specification.
    public enum ColorType: UInt8, Sendable {
        case gray = 0, rgb = 2, palette = 3, grayAlpha = 4, rgba = 6
    }

    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// Bits per sample (palette: bits per index): 1, 2, 4, 8 or 16.
    public var bitDepth: Int
    /// Stored colour type.
    public var colorType: ColorType
    /// Adam7 interlacing.
    public var interlaced: Bool
    /// A tRNS chunk precedes the image data (palette or single-colour transparency).
    public var hasTransparencyChunk: Bool

    /// Gray or gray+alpha storage.
    public var isGrayscale: Bool { colorType == .gray || colorType == .grayAlpha }
    /// Gray+alpha or RGBA storage.
    public var hasAlphaChannel: Bool { colorType == .grayAlpha || colorType == .rgba }

    /// The 8-byte PNG signature.
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Colour-space chunks we drop before decoding: libpng's simplified API would otherwise
    /// gamma-correct samples (e.g. a gAMA of 1.0) and s2c codes stored values, like PIL does.
    static let colorSpaceChunks: Set<String> = ["gAMA", "cHRM", "sRGB", "iCCP"]

    /// Parses signature, IHDR and the chunks before the first IDAT; `name` is used in errors.
    public static func parse(_ data: [UInt8], name: String) throws -> PNGHeader {
        if data.isEmpty { throw ImageIOError.empty(path: name) }
        let sigCount = min(data.count, signature.count)
        guard data[0..<sigCount].elementsEqual(signature[0..<sigCount]) else {
            throw ImageIOError.notPNG(path: name)
        }
        // Signature (8) + IHDR length/type (8) + IHDR data (13) + CRC (4).
        guard data.count >= 33 else {
            throw ImageIOError.corrupt(path: name, detail: "file ends inside the header (\(data.count) bytes)")
        }
        guard be32(data, 8) == 13, chunkType(data, 12) == "IHDR" else {
            throw ImageIOError.corrupt(path: name, detail: "first chunk is not a 13-byte IHDR")
        }
        let width = Int(be32(data, 16)), height = Int(be32(data, 20))
        let bitDepth = Int(data[24])
        guard let colorType = ColorType(rawValue: data[25]) else {
            throw ImageIOError.corrupt(path: name, detail: "invalid colour type \(data[25])")
        }
        let allowed: [Int]
        switch colorType {
        case .gray: allowed = [1, 2, 4, 8, 16]
        case .palette: allowed = [1, 2, 4, 8]
        case .rgb, .grayAlpha, .rgba: allowed = [8, 16]
        }
        guard allowed.contains(bitDepth) else {
            throw ImageIOError.corrupt(path: name, detail: "bit depth \(bitDepth) is invalid for colour type \(colorType.rawValue)")
        }
        guard data[26] == 0, data[27] == 0, data[28] <= 1 else {
            throw ImageIOError.corrupt(path: name, detail: "unknown compression, filter or interlace method")
        }
        // Int is 64-bit on every target, so width * height cannot overflow for 32-bit fields.
        guard (1...ImageLimits.maxSide).contains(width), (1...ImageLimits.maxSide).contains(height),
              width * height <= ImageLimits.maxPixels else {
            throw ImageIOError.badDimensions(path: name, width: width, height: height)
        }

        // Every complete chunk header up to IEND must describe a chunk that fits in the file:
        // libpng allocates a chunk's declared length before reading it (a 241-byte file declaring
        // a 1.2 GB tEXt chunk made it allocate 1.2 GB; fuzz/harness/png.swift). And the image data
        // must be able to inflate to the image: deflate expands at most 1032:1, so fewer IDAT
        // bytes than that cannot hold width x height pixels, and the pixel buffers are not
        // allocated for them. A few trailing bytes (a cut IEND) are left to libpng.
        var offset = signature.count, idatBytes = 0
        while offset + 12 <= data.count {
            let length = Int(be32(data, offset)), type = chunkType(data, offset + 4)
            guard length <= 0x7FFF_FFFF, offset + 12 + length <= data.count else {
                throw ImageIOError.corrupt(path: name, detail:
                    "chunk '\(type)' at byte \(offset) declares \(length) bytes, more than the file has left (truncated or damaged)")
            }
            if type == "IDAT" { idatBytes += length }
            offset += 12 + length
            if type == "IEND" { break }
        }
        let samples = colorType == .rgb ? 3 : colorType == .grayAlpha ? 2 : colorType == .rgba ? 4 : 1
        let minimum = width * height * samples * bitDepth / 8 / 1032
        guard idatBytes > 0, idatBytes >= minimum else {
            throw ImageIOError.corrupt(path: name, detail:
                "\(idatBytes) bytes of image data cannot hold \(width)x\(height) pixels (truncated or damaged)")
        }

        var hasTRNS = false
        forEachChunk(data) { type, _ in
            if type == "IDAT" || type == "IEND" { return false }
            if type == "tRNS" { hasTRNS = true }
            return true
        }
        return PNGHeader(width: width, height: height, bitDepth: bitDepth, colorType: colorType,
                         interlaced: data[28] == 1, hasTransparencyChunk: hasTRNS)
    }

    /// `data` without gAMA/cHRM/sRGB/iCCP chunks (the same array when there are none).
    /// A damaged chunk list is copied through unchanged from that point, for libpng to report.
    static func strippingColorSpaceChunks(_ data: [UInt8]) -> [UInt8] {
        var drop: [Range<Int>] = []
        forEachChunk(data) { type, range in
            if colorSpaceChunks.contains(type) { drop.append(range) }
            return true
        }
        if drop.isEmpty { return data }
        var out: [UInt8] = []
        out.reserveCapacity(data.count)
        var from = 0
        for r in drop {
            out.append(contentsOf: data[from..<r.lowerBound])
            from = r.upperBound
        }
        out.append(contentsOf: data[from...])
        return out
    }

    /// Calls `body(type, byteRange)` for each complete chunk after the signature, in order,
    /// until `body` returns false or the next chunk does not fit in `data`.
    static func forEachChunk(_ data: [UInt8], _ body: (String, Range<Int>) -> Bool) {
        var offset = signature.count
        while offset + 12 <= data.count {
            let length = Int(be32(data, offset))
            let end = offset + 12 + length  // length (4) + type (4) + data + CRC (4); no overflow in Int64
            guard length <= 0x7FFF_FFFF, end <= data.count else { return }
            if !body(chunkType(data, offset + 4), offset..<end) { return }
            offset = end
        }
    }

    /// Big-endian UInt32 at `i` (caller checks bounds).
    static func be32(_ d: [UInt8], _ i: Int) -> UInt32 {
        UInt32(d[i]) << 24 | UInt32(d[i + 1]) << 16 | UInt32(d[i + 2]) << 8 | UInt32(d[i + 3])
    }

    /// The 4-character chunk type at `i`, with non-ASCII bytes replaced.
    static func chunkType(_ d: [UInt8], _ i: Int) -> String {
        String(decoding: d[i..<i + 4], as: UTF8.self)
    }
}
