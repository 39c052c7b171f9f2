// Codec.swift: the integer S2C codec: image <-> .s2c bitstream with one .s2cq model.
// Encoder and decoder run the same integer code (IntEntropyModel with a SymbolCoder), so the
// decoder reproduces the encoder's reconstruction bit for bit. Embedded subset: this is what a
// board runs to decode.

/// Why encoding or decoding failed.
public enum CodecError: Error, Equatable, Sendable {
    case bitstream(BitstreamError)
    case corrupt(String)
    case badImage(String)
    /// A quality (in 1/256 steps) above the model's highest level.
    case qualityOutOfRange(quality256: Int, qualities: Int)

    /// A sentence a user can act on.
    public var message: String {
        switch self {
        case .bitstream(let e): return e.message
        case .corrupt(let what): return "bitstream is corrupt: \(what)"
        case .badImage(let what): return what
        case .qualityOutOfRange(let q, let n):
            return "quality \(BitstreamHeader.qualityText(q)) is outside the model's range 1...\(n)"
        }
    }
}

/// Decoded image: interleaved RGB (3 bytes per pixel), or 1 byte per pixel when gray.
public struct DecodedImage: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var color: ColorFormat
    public var pixels: [UInt8]
}

/// The integer codec bound to one model file.
///
/// Images are coded in independent tiles (docs/bitstream.md): each tile is padded to multiples of
/// 64 and runs through the whole network alone, so memory is bounded by the tile size, not the
/// image size. An image that fits one tile is coded exactly as a version-1 stream.
public struct IntCodec: Sendable {
    /// Largest tile (in padded pixels) the codec runs: the whole-tile activations peak at about
    /// 400 bytes per pixel (measured: 225 MB for a 768x512 decode with the 69 MB hybrid-t model;
    /// per-pixel work and patch matrices run in bands, but the transforms hold whole-tile
    /// tensors), so 2^23 keeps a tile within ~3.5 GB. Checked before anything is allocated.
    public static let maxPixels = 1 << 23
    /// Default largest tile side of the encoder: tiles of at most 1024 x 1024 decode within about
    /// 0.5 GB with hybrid-t; images up to 1024 on each side are one tile.
    public static let defaultMaxTile = 1024
    /// Largest tile side an encoder may ask for: the largest multiple of 64 whose square fits maxPixels.
    public static let maxTileLimit = 2880

    public let fingerprint: UInt64
    public let config: IntConfig
    /// g_a and h_a: nil in a decode-only codec.
    let analysis: IntAnalysis?
    let hyper: IntHyperSynthesis
    let entropy: IntEntropyModel
    let synthesis: IntSynthesis
    let zTables: CDFTableSet

    /// Builds the integer networks of a model file. `decodeOnly` skips the encoder's g_a and h_a
    /// (about a third of hybrid-t's weights): such a codec decodes and refuses to encode.
    public init(model f: ModelFile, decodeOnly: Bool = false) throws(ModelFileError) {
        fingerprint = f.fingerprint
        config = try IntConfig(f)
        analysis = decodeOnly ? nil : try IntAnalysis(f, config)
        hyper = try IntHyperSynthesis(f, config)
        entropy = try IntEntropyModel(f, config)
        synthesis = try IntSynthesis(f)
        let z = TensorName.zTables
        zTables = CDFTableSet(cdf: try f.int32(z + TensorName.cdf), offsets: try f.int32(z + TensorName.offsets),
                              tails: try f.int32(z + TensorName.tails))
        if let why = zTables.validate() { throw .malformed("z CDF tables: \(why)") }
        guard zTables.count == config.hyper else { throw .malformed("z CDF tables do not match the hyper-latent width") }
    }

    /// Refuses a quality (1/256 steps) outside this model's levels 1...qualities.
    func checkQuality(_ quality256: Int) throws(CodecError) {
        guard Bitstream.qualityRange.contains(quality256) else { throw .bitstream(.badQuality(quality256)) }
        guard config.quality256Range.contains(quality256) else {
            throw .qualityOutOfRange(quality256: quality256, qualities: config.qualities)
        }
    }

    /// The tile grid the encoder uses for a width x height image with tiles of at most maxTile
    /// (a multiple of 64) on a side: as few tiles as possible, of equal size rounded up to a
    /// multiple of 64 (the last column and row take the rest). nil: one tile.
    public static func tileSize(width: Int, height: Int, maxTile: Int) -> (width: Int, height: Int)? {
        func side(_ n: Int) -> Int {
            let count = (n + maxTile - 1) / maxTile
            return ((n + count - 1) / count + 63) / 64 * 64
        }
        if width <= maxTile && height <= maxTile { return nil }
        return (side(width), side(height))
    }

    /// The quality-independent first half of encoding: each padded tile through g_a.
    /// `encode(_:quality256:_:)` codes it at any quality, so one analysis serves many rates.
    public struct Analysed: Sendable {
        public let width: Int, height: Int
        public let color: ColorFormat
        /// Tile size (nil: one tile) and each tile's g_a output, raster order.
        public let tileWidth: Int?, tileHeight: Int?
        let tiles: [IntTensor]
    }

    /// Runs g_a on interleaved RGB (gray images: R = G = B, color .gray), tile by tile, with tiles
    /// of at most maxTile pixels on a side (a multiple of 64 in 64...maxTileLimit).
    /// `progress(done, total)` is called after each tile (total: the tile count).
    public func analyse(rgb: [UInt8], width: Int, height: Int, color: ColorFormat,
                        maxTile: Int = IntCodec.defaultMaxTile, _ kn: Kernels,
                        progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws(CodecError) -> Analysed {
        guard width >= 1, height >= 1, width <= Bitstream.maxSide, height <= Bitstream.maxSide,
              width * height <= Bitstream.maxPixels, rgb.count == 3 * width * height else {
            throw .badImage("image of \(width)x\(height) with \(rgb.count) bytes cannot be coded")
        }
        guard maxTile >= 64, maxTile <= IntCodec.maxTileLimit, maxTile % 64 == 0 else {
            throw .badImage("tile size \(maxTile) is invalid (a multiple of 64 in 64...\(IntCodec.maxTileLimit))")
        }
        guard let analysis else { throw .badImage("this codec was loaded to decode only; it cannot encode") }
        let tile = IntCodec.tileSize(width: width, height: height, maxTile: maxTile)
        let grid: BitstreamHeader
        do {
            grid = try BitstreamHeader(fingerprint: fingerprint, width: width, height: height, color: color,
                                       quality256: Bitstream.qualityRange.lowerBound, zLength: 0, yLength: 0,
                                       tileWidth: tile?.width, tileHeight: tile?.height)
        } catch {
            throw .bitstream(error)
        }
        var tiles: [IntTensor] = []
        for i in 0..<grid.tileCount {
            let r = grid.tile(i)
            try IntCodec.checkSize(width: r.width, height: r.height)
            let sub = grid.tileCount == 1 ? rgb : IntCodec.cut(rgb, width: width, r.x, r.y, r.width, r.height)
            let (px, pw, ph) = IntAnalysis.padReplicate(rgb: sub, width: r.width, height: r.height, multiple: 64)
            tiles.append(analysis.y(pixels: px, h: ph, w: pw, kn))
            progress(i + 1, grid.tileCount)
        }
        return Analysed(width: width, height: height, color: color, tileWidth: tile?.width, tileHeight: tile?.height,
                        tiles: tiles)
    }

    /// Encodes interleaved RGB (gray images: R = G = B, color .gray) at a quality in 1/256 steps,
    /// in tiles of at most maxTile pixels on a side.
    /// Returns the bitstream and the reconstruction the decoder will produce (same layout as decode).
    public func encode(rgb: [UInt8], width: Int, height: Int, color: ColorFormat, quality256: Int,
                       maxTile: Int = IntCodec.defaultMaxTile, _ kn: Kernels) throws(CodecError) -> (Bitstream, DecodedImage) {
        try checkQuality(quality256)
        return try encode(try analyse(rgb: rgb, width: width, height: height, color: color, maxTile: maxTile, kn),
                          quality256: quality256, kn)
    }

    /// Codes an analysed image at a quality in 1/256 steps (the second half of encoding).
    public func encode(_ a: Analysed, quality256: Int, _ kn: Kernels) throws(CodecError) -> (Bitstream, DecodedImage) {
        let (bs, rec) = try code(a, quality256: quality256, reconstruct: true, kn)
        return (bs, rec!)
    }

    /// Encodes without computing the reconstruction (no g_s: about half the work of `encode`);
    /// the bitstream is byte-identical to `encode`'s. `progress(done, total)` counts two steps a
    /// tile (analysis, then entropy coding).
    public func encodeStream(rgb: [UInt8], width: Int, height: Int, color: ColorFormat, quality256: Int,
                             maxTile: Int = IntCodec.defaultMaxTile, _ kn: Kernels,
                             progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws(CodecError) -> Bitstream {
        try checkQuality(quality256)
        let a = try analyse(rgb: rgb, width: width, height: height, color: color, maxTile: maxTile, kn,
                            progress: { d, n in progress(d, 2 * n) })
        return try code(a, quality256: quality256, reconstruct: false, kn,
                        progress: { d, n in progress(n + d, 2 * n) }).0
    }

    /// The second half of encoding; the reconstruction (g_s) only when asked for.
    func code(_ a: Analysed, quality256: Int, reconstruct: Bool, _ kn: Kernels,
              progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws(CodecError) -> (Bitstream, DecodedImage?) {
        try checkQuality(quality256)
        guard let analysis else { throw .badImage("this codec was loaded to decode only; it cannot encode") }
        let row = config.qualityIndex(quality256: quality256)
        var streams: [TileStreams] = []
        var out = DecodedImage(width: a.width, height: a.height, color: a.color,
                               pixels: [UInt8](repeating: 0, count: reconstruct ? (a.color == .gray ? 1 : 3) * a.width * a.height : 0))
        let grid: BitstreamHeader
        do {
            grid = try BitstreamHeader(fingerprint: fingerprint, width: a.width, height: a.height, color: a.color,
                                       quality256: quality256, zLength: 0, yLength: 0,
                                       tileWidth: a.tileWidth, tileHeight: a.tileHeight)
        } catch {
            throw .bitstream(error)
        }
        for (i, y) in a.tiles.enumerated() {
            let yg = analysis.gained(y, quality: row, kn)
            let zs = analysis.zSymbols(yGained: yg, kn)
            var zw = RansSymbolWriter(tables: zTables)
            for i in 0..<zs.data.count { zw.put(Int32(zs.data[i]), table: i % zs.c) }
            let psi = hyper(symbols: zs, kn)
            var coder = YEncoderCoder(y: yg, frac: config.yFracBits, tables: entropy.tables)
            let yHat = entropy.run(psi: psi, coder: &coder, kn)
            streams.append(TileStreams(z: zw.finish(), y: coder.writer.finish()))
            if reconstruct {
                IntCodec.paste(synthesis(yHat, quality: row, kn), paddedWidth: 16 * y.w, into: &out, grid.tile(i))
            }
            progress(i + 1, a.tiles.count)
        }
        let bs: Bitstream
        do {
            bs = try Bitstream(fingerprint: fingerprint, width: a.width, height: a.height, color: a.color,
                               quality256: quality256, tileWidth: a.tileWidth, tileHeight: a.tileHeight, tiles: streams)
        } catch {
            throw .bitstream(error)
        }
        return (bs, reconstruct ? out : nil)
    }

    /// Decodes a parsed bitstream made with this model, tile by tile; `progress(done, total)` is
    /// called after each tile.
    public func decode(_ bs: Bitstream, _ kn: Kernels,
                       progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws(CodecError) -> DecodedImage {
        let h = bs.header
        do {
            try h.requireModel(fingerprint: fingerprint)
        } catch {
            throw .bitstream(error)
        }
        for i in 0..<h.tileCount {
            let r = h.tile(i)
            try IntCodec.checkSize(width: r.width, height: r.height)
        }
        try checkQuality(h.quality256)
        let row = config.qualityIndex(quality256: h.quality256)
        let hyperC = config.hyper
        let em = entropy
        var out = DecodedImage(width: h.width, height: h.height, color: h.color,
                               pixels: [UInt8](repeating: 0, count: (h.color == .gray ? 1 : 3) * h.pixelCount))
        for i in 0..<h.tileCount {
            let r = h.tile(i)
            let place = h.tileCount == 1 ? "" : " of tile \(i) (x \(r.x), y \(r.y))"
            let ph = (r.height + 63) / 64 * 64, pw = (r.width + 63) / 64 * 64
            let (zs, zClean) = RansSymbolReader.withReader(bs.tiles[i].z, tables: zTables) { r -> IntTensor in
                var t = IntTensor(h: ph / 64, w: pw / 64, c: hyperC)
                for i in 0..<t.data.count { t.data[i] = Int16(clamping: r.get(table: i % hyperC)) }
                return t
            }
            guard zClean else { throw .corrupt("the hyper-latent (z) stream\(place) does not decode cleanly") }
            let psi = hyper(symbols: zs, kn)
            let (yHat, yClean) = RansSymbolReader.withReader(bs.tiles[i].y, tables: entropy.tables) { r -> IntTensor in
                var coder = YDecoderCoder(reader: r)
                let y = em.run(psi: psi, coder: &coder, kn)
                r = coder.reader
                return y
            }
            guard yClean else { throw .corrupt("the latent (y) stream\(place) does not decode cleanly") }
            let rec = synthesis(yHat, quality: row, kn)
            IntCodec.paste(rec, paddedWidth: pw, into: &out, r)
            progress(i + 1, h.tileCount)
        }
        return out
    }

    /// Refuses tiles whose padded size exceeds maxPixels.
    static func checkSize(width: Int, height: Int) throws(CodecError) {
        let padded = (width + 63) / 64 * 64 * ((height + 63) / 64 * 64)
        guard padded <= maxPixels else {
            throw .badImage("a tile of \(width)x\(height) is larger than this codec handles (at most \(maxPixels) "
                            + "pixels after padding to multiples of 64)")
        }
    }

    /// The w x h rectangle at (x, y) of an interleaved RGB image of the given width.
    public static func cut(_ rgb: [UInt8], width: Int, _ x: Int, _ y: Int, _ w: Int, _ h: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 3 * w * h)
        for r in 0..<h {
            let s = 3 * ((y + r) * width + x), d = 3 * r * w
            for i in 0..<3 * w { out[d + i] = rgb[s + i] }
        }
        return out
    }

    /// Copies the top-left r.width x r.height of a padded RGB tile to rectangle r of `out`; gray
    /// keeps one channel: round((R+G+B)/3).
    static func paste(_ rgb: [UInt8], paddedWidth pw: Int, into out: inout DecodedImage,
                      _ r: (x: Int, y: Int, width: Int, height: Int)) {
        let gray = out.color == .gray
        for y in 0..<r.height {
            for x in 0..<r.width {
                let s = 3 * (y * pw + x), o = (r.y + y) * out.width + r.x + x
                if gray {
                    out.pixels[o] = UInt8((Int(rgb[s]) + Int(rgb[s + 1]) + Int(rgb[s + 2]) + 1) / 3)
                } else {
                    out.pixels[3 * o] = rgb[s]
                    out.pixels[3 * o + 1] = rgb[s + 1]
                    out.pixels[3 * o + 2] = rgb[s + 2]
                }
            }
        }
    }
}
