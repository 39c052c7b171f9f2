// Bitstream.swift: the .s2c bitstream container: header, CRC-32, the z and y payload streams
// (version 1: one image; version 2: a grid of independently coded tiles, each with its own z and y).
//
// Decode-path code: Embedded Swift subset (no Foundation, no existentials, typed throws,
// integers only). Byte layout: docs/bitstream.md. Little-endian always; never renumber an enum.
// The payloads are opaque here: the codec produces and consumes them.

/// Colour format of the coded image. Stored as one byte; never renumber, only add.
public enum ColorFormat: UInt8, Equatable, Sendable {
    /// Three channels, R G B.
    case rgb = 0
    /// One gray channel (decoded images have R == G == B).
    case gray = 1

    /// Lower-case name used by `s2c-int info`.
    public var name: String {
        switch self {
        case .rgb: return "rgb"
        case .gray: return "gray"
        }
    }
}

/// Why a bitstream was refused.
public enum BitstreamError: Error, Equatable, Sendable {
    case empty
    case badMagic
    case truncatedHeader(Int)
    case unsupportedVersion(UInt8)
    case headerChecksumMismatch
    case unknownColorFormat(UInt8)
    case badDimensions(width: Int, height: Int)
    case badQuality(Int)
    case streamTooLarge(stream: String, length: Int)
    case truncated(expected: Int, found: Int)
    case trailingBytes(expected: Int, found: Int)
    case payloadChecksumMismatch
    case modelMismatch(bitstream: UInt64, model: UInt64)
    case badTileSize(width: Int, height: Int)
    case tileTableChecksumMismatch
    case tileTableMismatch

    /// A sentence a user can act on.
    public var message: String {
        switch self {
        case .empty:
            return "bitstream is empty (0 bytes)"
        case .badMagic:
            return "not an s2c bitstream (.s2c): bad magic"
        case .truncatedHeader(let n):
            return "bitstream is truncated: \(n) bytes, the header alone is at least \(Bitstream.headerSize)"
        case .unsupportedVersion(let v):
            return "bitstream format version \(v) is not supported by this build (supports 1 and \(Bitstream.tiledVersion))"
        case .headerChecksumMismatch:
            return "bitstream header is corrupted: CRC-32 mismatch"
        case .unknownColorFormat(let c):
            return "bitstream has unknown colour format \(c) (this build knows 0 rgb, 1 gray)"
        case .badDimensions(let w, let h):
            return "bitstream image size \(w) x \(h) is out of range (each side 1...65535, at most \(Bitstream.maxPixels) pixels)"
        case .badQuality(let q):
            return "bitstream quality \(q)/256 is below quality 1 (\(Bitstream.qualityRange.lowerBound)/256)"
        case .streamTooLarge(let s, let n):
            return "bitstream \(s) stream length \(n) exceeds the limit of \(Bitstream.maxStreamBytes) bytes"
        case .truncated(let e, let f):
            return "bitstream is truncated: the header announces \(e) bytes, the file has \(f)"
        case .trailingBytes(let e, let f):
            return "bitstream has \(f - e) trailing bytes after its end (header announces \(e), file has \(f))"
        case .payloadChecksumMismatch:
            return "bitstream payload is corrupted: CRC-32 mismatch"
        case .modelMismatch(let b, let m):
            return "bitstream was encoded with model \(hex64(b)), but the model given is \(hex64(m)); decode with the .s2cq file the encoder used"
        case .badTileSize(let w, let h):
            return "bitstream tile size \(w) x \(h) is invalid (multiples of 64, 64...\(Bitstream.maxTileSide), and at least 2 tiles)"
        case .tileTableChecksumMismatch:
            return "bitstream tile table is corrupted: CRC-32 mismatch"
        case .tileTableMismatch:
            return "bitstream tile table does not add up to the stream lengths in the header"
        }
    }
}

// MARK: - CRC-32

/// CRC-32 table (IEEE 802.3, reflected, polynomial 0xEDB88320), one entry per byte value.
let crc32Table: [UInt32] = {
    var t = [UInt32](repeating: 0, count: 256)
    for i in 0..<256 {
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        t[i] = c
    }
    return t
}()

/// CRC-32 (IEEE 802.3 / zlib / PNG): init 0xFFFFFFFF, reflected, final XOR 0xFFFFFFFF.
///
/// `crc` continues a previous result, as zlib's crc32(): crc32(b, crc32(a)) == crc32(a + b).
/// Check value: crc32("123456789") == 0xCBF43926.
public func crc32(_ bytes: UnsafeBufferPointer<UInt8>, _ crc: UInt32 = 0) -> UInt32 {
    var c = ~crc
    crc32Table.withUnsafeBufferPointer { t in
        for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
    }
    return ~c
}

/// CRC-32 of `bytes[range]` (see `crc32(_:_:)`).
public func crc32(_ bytes: [UInt8], _ range: Range<Int>) -> UInt32 {
    bytes.withUnsafeBufferPointer { crc32(UnsafeBufferPointer(rebasing: $0[range])) }
}

/// `v` as "0x" and 16 lower-case hex digits.
public func hex64(_ v: UInt64) -> String {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    var out: [UInt8] = [0x30, 0x78]
    for i in stride(from: 60, through: 0, by: -4) { out.append(digits[Int((v >> UInt64(i)) & 0xF)]) }
    return String(decoding: out, as: UTF8.self)
}

// MARK: - Header

/// The fixed header of a .s2c bitstream (32 bytes in version 1, 36 in version 2); every field is
/// validated on construction.
public struct BitstreamHeader: Equatable, Sendable {
    /// Format version: 1 (one tile) or 2 (a grid of at least 2 tiles).
    public let version: UInt8
    /// FNV-1a-64 fingerprint of the .s2cq model the stream was encoded with (`ModelFile.fingerprint`).
    public let fingerprint: UInt64
    /// Image width in pixels, 1...65535.
    public let width: Int
    /// Image height in pixels, 1...65535.
    public let height: Int
    /// Colour format of the image.
    public let color: ColorFormat
    /// Quality in 1/256 steps: round(Q * 256) for the encoder's continuous Q in 1...(the model's
    /// number of quality levels); the codec checks the upper end against its model.
    public let quality256: Int
    /// Length of the z (hyper-latent) stream in bytes (version 2: all tiles' z streams together).
    public let zLength: Int
    /// Length of the y (latent) stream in bytes (version 2: all tiles' y streams together).
    public let yLength: Int
    /// Tile grid: tiles of tileWidth x tileHeight pixels (the last column and row smaller), in
    /// raster order. Version 1: one tile, the whole image.
    public let tileWidth: Int
    public let tileHeight: Int

    /// A header; version 1 when the tile grid (nil: the whole image) has one tile, else version 2.
    /// Refuses values the parser would refuse.
    public init(fingerprint: UInt64, width: Int, height: Int, color: ColorFormat, quality256: Int,
                zLength: Int, yLength: Int, tileWidth: Int? = nil, tileHeight: Int? = nil) throws(BitstreamError) {
        guard width >= 1, width <= Bitstream.maxSide, height >= 1, height <= Bitstream.maxSide,
              width * height <= Bitstream.maxPixels else {
            throw .badDimensions(width: width, height: height)
        }
        guard Bitstream.qualityRange.contains(quality256) else { throw .badQuality(quality256) }
        guard zLength >= 0, zLength <= Bitstream.maxStreamBytes else { throw .streamTooLarge(stream: "z", length: zLength) }
        guard yLength >= 0, yLength <= Bitstream.maxStreamBytes else { throw .streamTooLarge(stream: "y", length: yLength) }
        let tw = tileWidth ?? width, th = tileHeight ?? height
        if tw >= width && th >= height {
            self.version = 1
            self.tileWidth = width
            self.tileHeight = height
        } else {
            guard tw >= 64, th >= 64, tw % 64 == 0, th % 64 == 0, tw <= Bitstream.maxTileSide,
                  th <= Bitstream.maxTileSide else {
                throw .badTileSize(width: tw, height: th)
            }
            self.version = Bitstream.tiledVersion
            self.tileWidth = tw
            self.tileHeight = th
        }
        self.fingerprint = fingerprint
        self.width = width
        self.height = height
        self.color = color
        self.quality256 = quality256
        self.zLength = zLength
        self.yLength = yLength
    }

    /// Pixels in the image.
    public var pixelCount: Int { width * height }

    /// Tile columns and rows of the grid (1 x 1 in version 1).
    public var tileColumns: Int { (width + tileWidth - 1) / tileWidth }
    public var tileRows: Int { (height + tileHeight - 1) / tileHeight }
    /// Number of tiles (at most `Bitstream.maxTiles`).
    public var tileCount: Int { tileColumns * tileRows }

    /// Tile `i` (raster order) as a rectangle of the image.
    public func tile(_ i: Int) -> (x: Int, y: Int, width: Int, height: Int) {
        let x = i % tileColumns * tileWidth, y = i / tileColumns * tileHeight
        return (x, y, min(tileWidth, width - x), min(tileHeight, height - y))
    }

    /// Header bytes, header CRC included: 32 (version 1) or 36 (version 2).
    public var headerSize: Int { version == 1 ? Bitstream.headerSize : Bitstream.tiledHeaderSize }

    /// Version 2's tile table: 8 bytes per tile and its CRC-32; version 1 has none.
    public var tileTableSize: Int { version == 1 ? 0 : 8 * tileCount + 4 }

    /// Size of the whole bitstream this header announces: header, tile table, z and y streams,
    /// payload CRC.
    public var totalSize: Int { headerSize + tileTableSize + zLength + yLength + Bitstream.trailerSize }

    /// Refuses decoding with a model other than the one the stream was encoded with.
    public func requireModel(fingerprint model: UInt64) throws(BitstreamError) {
        guard model == fingerprint else { throw .modelMismatch(bitstream: fingerprint, model: model) }
    }

    /// The header bytes (32 or 36), CRC-32 included.
    public func serialize() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(headerSize)
        out += Bitstream.magic
        out.append(version)
        out.append(color.rawValue)
        putLE(&out, UInt64(quality256), 2)
        putLE(&out, fingerprint, 8)
        putLE(&out, UInt64(width), 2)
        putLE(&out, UInt64(height), 2)
        putLE(&out, UInt64(zLength), 4)
        putLE(&out, UInt64(yLength), 4)
        if version != 1 {
            putLE(&out, UInt64(tileWidth), 2)
            putLE(&out, UInt64(tileHeight), 2)
        }
        putLE(&out, UInt64(crc32(out, 0..<out.count)), 4)
        return out
    }
}

/// Appends the low `n` bytes of `v`, least significant first.
func putLE(_ out: inout [UInt8], _ v: UInt64, _ n: Int) {
    for i in 0..<n { out.append(UInt8(truncatingIfNeeded: v >> UInt64(8 * i))) }
}

/// Reads `n` bytes at `p` as a little-endian unsigned integer (caller checked the bounds).
func getLE(_ bytes: [UInt8], _ p: Int, _ n: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<n { v |= UInt64(bytes[p + i]) << UInt64(8 * i) }
    return v
}

// MARK: - Bitstream

/// One tile's two entropy-coded streams.
public struct TileStreams: Equatable, Sendable {
    /// Entropy-coded hyper-latent z (factorized prior).
    public let z: [UInt8]
    /// Entropy-coded latent y (rANS).
    public let y: [UInt8]

    public init(z: [UInt8], y: [UInt8]) {
        self.z = z
        self.y = y
    }
}

/// A complete .s2c bitstream: header and each tile's two entropy-coded payload streams.
public struct Bitstream: Equatable, Sendable {
    /// File magic: 0x89 'S' '2' 'C' (the high first byte keeps text tools from taking it for text).
    public static let magic: [UInt8] = [0x89, 0x53, 0x32, 0x43]
    /// Format version of a one-tile stream (this build reads and writes 1 and 2).
    public static let version: UInt8 = 1
    /// Format version of a tiled stream.
    public static let tiledVersion: UInt8 = 2
    /// Header bytes, header CRC included (version 1; version 2 adds the tile size).
    public static let headerSize = 32
    /// Version 2's header bytes.
    public static let tiledHeaderSize = 36
    /// Largest tile side of version 2 (a multiple of 64 that fits the u16 field).
    public static let maxTileSide = 65_472
    /// Bytes after the payloads: the payload CRC-32.
    public static let trailerSize = 4
    /// Largest image side (sides are stored in 16 bits).
    public static let maxSide = 65_535
    /// Largest pixel count, as ImageIO's PNG reader: bounds any buffer a header can ask for.
    public static let maxPixels = 1 << 28
    /// Largest z or y stream: 256 MiB, far above any real image (2^28 px at 8 bpp).
    public static let maxStreamBytes = 1 << 28
    /// Most tiles a valid header can describe: ceil(W/64) * ceil(H/64) <= W*H/4096 + W/64 + H/64 + 1
    /// with W*H <= 2^28 and W, H <= 65535 (tiles are at least 64 x 64).
    public static let maxTiles = maxPixels / 4096 + 2 * (maxSide / 64 + 1) + 1
    /// Largest valid bitstream: header, tile table, two streams at their cap, payload CRC
    /// (readers' size cap).
    public static let maxSize = tiledHeaderSize + 8 * maxTiles + 4 + 2 * maxStreamBytes + trailerSize
    /// Stored qualities the format allows: Q >= 1 in 1/256 steps, up to the u16 field's limit. A
    /// model has its own upper end (its number of quality levels, `IntConfig.quality256Range`),
    /// which the codec checks: a stream of another model is refused by its fingerprint first.
    public static let qualityRange = 256...65535

    /// The validated header; its stream lengths equal the streams' total counts.
    public let header: BitstreamHeader
    /// Each tile's streams, raster order (`header.tileCount` of them).
    public let tiles: [TileStreams]
    /// The first tile's z stream (the image's, in a one-tile stream).
    public var zStream: [UInt8] { tiles[0].z }
    /// The first tile's y stream (the image's, in a one-tile stream).
    public var yStream: [UInt8] { tiles[0].y }

    /// Wraps the codec's streams of a one-tile (version 1) image.
    public init(fingerprint: UInt64, width: Int, height: Int, color: ColorFormat, quality256: Int,
                zStream: [UInt8], yStream: [UInt8]) throws(BitstreamError) {
        try self.init(fingerprint: fingerprint, width: width, height: height, color: color, quality256: quality256,
                      tileWidth: nil, tileHeight: nil, tiles: [TileStreams(z: zStream, y: yStream)])
    }

    /// Wraps the streams of each tile of a tileWidth x tileHeight grid (nil: one tile); version 1
    /// when the grid has one tile, else 2. The header's lengths are taken from the streams.
    public init(fingerprint: UInt64, width: Int, height: Int, color: ColorFormat, quality256: Int,
                tileWidth: Int?, tileHeight: Int?, tiles: [TileStreams]) throws(BitstreamError) {
        var zn = 0, yn = 0
        for t in tiles {
            zn += t.z.count
            yn += t.y.count
        }
        let h = try BitstreamHeader(fingerprint: fingerprint, width: width, height: height, color: color,
                                    quality256: quality256, zLength: zn, yLength: yn,
                                    tileWidth: tileWidth, tileHeight: tileHeight)
        guard tiles.count == h.tileCount else { throw .tileTableMismatch }
        header = h
        self.tiles = tiles
    }

    /// The bitstream's bytes: header, tile table (version 2), each tile's z and y streams, CRC-32
    /// of all the streams.
    public func serialize() -> [UInt8] {
        var out = header.serialize()
        out.reserveCapacity(header.totalSize)
        if header.version != 1 {
            let start = out.count
            for t in tiles {
                putLE(&out, UInt64(t.z.count), 4)
                putLE(&out, UInt64(t.y.count), 4)
            }
            putLE(&out, UInt64(crc32(out, start..<out.count)), 4)
        }
        let payload = out.count
        for t in tiles {
            out += t.z
            out += t.y
        }
        putLE(&out, UInt64(crc32(out, payload..<out.count)), 4)
        return out
    }

    /// Parses and validates a header from the first 32 (version 2: 36) bytes; the tile table and
    /// the payloads are not checked.
    ///
    /// Order: magic, version, header CRC (so that no field is trusted before it), then the
    /// colour format, size, quality, stream-length and tile-size bounds.
    public static func peekHeader(_ bytes: [UInt8]) throws(BitstreamError) -> BitstreamHeader {
        guard !bytes.isEmpty else { throw .empty }
        let m = min(bytes.count, magic.count)
        guard Array(bytes[0..<m]) == Array(magic[0..<m]) else { throw .badMagic }
        guard bytes.count >= headerSize else { throw .truncatedHeader(bytes.count) }
        guard bytes[4] == version || bytes[4] == tiledVersion else { throw .unsupportedVersion(bytes[4]) }
        let tiled = bytes[4] == tiledVersion
        let crcAt = tiled ? tiledHeaderSize - 4 : headerSize - 4
        guard bytes.count >= crcAt + 4 else { throw .truncatedHeader(bytes.count) }
        guard UInt32(getLE(bytes, crcAt, 4)) == crc32(bytes, 0..<crcAt) else { throw .headerChecksumMismatch }
        guard let color = ColorFormat(rawValue: bytes[5]) else { throw .unknownColorFormat(bytes[5]) }
        let w = Int(getLE(bytes, 16, 2)), h = Int(getLE(bytes, 18, 2))
        let tw = tiled ? Int(getLE(bytes, 28, 2)) : w, th = tiled ? Int(getLE(bytes, 30, 2)) : h
        // A version-2 header must describe at least 2 tiles (one tile is written as version 1).
        if tiled && tw >= w && th >= h { throw .badTileSize(width: tw, height: th) }
        return try BitstreamHeader(fingerprint: getLE(bytes, 8, 8), width: w, height: h,
                                   color: color, quality256: Int(getLE(bytes, 6, 2)),
                                   zLength: Int(getLE(bytes, 20, 4)), yLength: Int(getLE(bytes, 24, 4)),
                                   tileWidth: tw, tileHeight: th)
    }

    /// Parses and fully validates a bitstream held in memory (header, exact size, tile table,
    /// payload CRC).
    public init(bytes: [UInt8]) throws(BitstreamError) {
        let h = try Bitstream.peekHeader(bytes)
        // Both lengths are <= 2^28 and the tile table <= 8 * maxTiles + 4 bytes, so the sum
        // cannot overflow; nothing is allocated before this.
        guard bytes.count >= h.totalSize else { throw .truncated(expected: h.totalSize, found: bytes.count) }
        guard bytes.count == h.totalSize else { throw .trailingBytes(expected: h.totalSize, found: bytes.count) }
        let table = h.headerSize, payload = h.headerSize + h.tileTableSize
        let end = payload + h.zLength + h.yLength
        var lengths: [(z: Int, y: Int)] = []
        if h.version == 1 {
            lengths.append((h.zLength, h.yLength))
        } else {
            guard UInt32(getLE(bytes, payload - 4, 4)) == crc32(bytes, table..<payload - 4) else {
                throw .tileTableChecksumMismatch
            }
            lengths.reserveCapacity(h.tileCount)
            var zn = 0, yn = 0
            for i in 0..<h.tileCount {
                let z = Int(getLE(bytes, table + 8 * i, 4)), y = Int(getLE(bytes, table + 8 * i + 4, 4))
                zn += z
                yn += y
                lengths.append((z, y))
            }
            guard zn == h.zLength, yn == h.yLength else { throw .tileTableMismatch }
        }
        guard UInt32(getLE(bytes, end, 4)) == crc32(bytes, payload..<end) else { throw .payloadChecksumMismatch }
        var tiles: [TileStreams] = []
        tiles.reserveCapacity(lengths.count)
        var p = payload
        for l in lengths {
            tiles.append(TileStreams(z: Array(bytes[p..<p + l.z]), y: Array(bytes[p + l.z..<p + l.z + l.y])))
            p += l.z + l.y
        }
        header = h
        self.tiles = tiles
    }
}

// MARK: - Human-readable summary (s2c-int info)

/// `n / d` as a decimal with `places` digits after the point, rounded half up (n >= 0, d > 0).
func decimal(_ n: UInt64, _ d: UInt64, places: Int) -> String {
    var scale: UInt64 = 1
    for _ in 0..<places { scale *= 10 }
    let q = (n * scale + d / 2) / d       // n <= 2^33 and scale <= 10^8 here: no overflow
    var frac = "\(q % scale)"
    while frac.utf8.count < places { frac = "0" + frac }
    return places == 0 ? "\(q / scale)" : "\(q / scale).\(frac)"
}

extension BitstreamHeader {
    /// The stored quality as an exact decimal: 1152 -> "4.5", 257 -> "1.00390625".
    public var qualityText: String { BitstreamHeader.qualityText(quality256) }

    /// A quality in 1/256 steps (>= 0) as an exact decimal.
    public static func qualityText(_ quality256: Int) -> String {
        // 1/256 = 0.00390625 exactly, so 8 decimals hold every step; trailing zeros trimmed.
        var s = Array(decimal(UInt64(quality256), 256, places: 8).utf8)
        while s.last == 0x30 { s.removeLast() }         // '0'
        if s.last == 0x2E { s.removeLast() }            // '.'
        return String(decoding: s, as: UTF8.self)
    }

    /// Bits per pixel of a file of `fileSize` bytes, 4 decimals: 8 * fileSize / (w * h).
    public func bitsPerPixel(fileSize: Int) -> String {
        decimal(8 * UInt64(fileSize), UInt64(pixelCount), places: 4)
    }

    /// The multi-line report printed by `s2c-int info`.
    public func infoText(fileSize: Int) -> String {
        "s2c bitstream, format version \(version)\n"
            + "image:    \(width) x \(height), \(color.name)\n"
            + (version == 1 ? "" : "tiles:    \(tileColumns) x \(tileRows) of \(tileWidth) x \(tileHeight)\n")
            + "quality:  \(qualityText) (stored \(quality256)/256)\n"
            + "model:    fingerprint \(hex64(fingerprint))\n"
            + "streams:  z \(zLength) bytes, y \(yLength) bytes\n"
            + "file:     \(fileSize) bytes, \(bitsPerPixel(fileSize: fileSize)) bits per pixel\n"
    }

    /// The same report as one JSON object (fingerprint as a hex string: JSON numbers lose u64 precision).
    public func infoJSON(fileSize: Int) -> String {
        "{\"version\": \(version), \"width\": \(width), \"height\": \(height), \"color\": \"\(color.name)\", "
            + "\"tiles\": \(tileCount), \"tile_width\": \(tileWidth), \"tile_height\": \(tileHeight), "
            + "\"quality\": \(qualityText), \"quality256\": \(quality256), "
            + "\"fingerprint\": \"\(hex64(fingerprint))\", \"z_bytes\": \(zLength), \"y_bytes\": \(yLength), "
            + "\"file_bytes\": \(fileSize), \"bpp\": \(bitsPerPixel(fileSize: fileSize))}\n"
    }
}
