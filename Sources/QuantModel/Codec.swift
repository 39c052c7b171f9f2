// Codec.swift: the integer S2C codec: image <-> .s2c bitstream with one .s2cq model.
// Encoder and decoder run the same integer code (IntEntropyModel with a SymbolCoder), so the
// decoder reproduces the encoder's reconstruction bit for bit. Embedded subset: this is what a
// board runs to decode.

/// Why encoding or decoding failed.
public enum CodecError: Error, Equatable, Sendable {
    case bitstream(BitstreamError)
    case corrupt(String)
    case badImage(String)

    /// A sentence a user can act on.
    public var message: String {
        switch self {
        case .bitstream(let e): return e.message
        case .corrupt(let what): return "bitstream is corrupt: \(what)"
        case .badImage(let what): return what
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
public struct IntCodec: Sendable {
    /// Largest image (in padded pixels) the codec runs: the whole-image activations peak at
    /// about 400 bytes per pixel (measured: 225 MB for a 768x512 decode with the 69 MB hybrid-t
    /// model; per-pixel work and patch matrices already run in bands, but the transforms still
    /// hold whole-image tensors), so 2^23 (e.g. 3840x2160) keeps a decode within ~3.5 GB.
    /// Checked before anything is allocated.
    public static let maxPixels = 1 << 23

    public let fingerprint: UInt64
    public let config: IntConfig
    let analysis: IntAnalysis
    let hyper: IntHyperSynthesis
    let entropy: IntEntropyModel
    let synthesis: IntSynthesis
    let zTables: CDFTableSet

    public init(model f: ModelFile) throws(ModelFileError) {
        fingerprint = f.fingerprint
        config = try IntConfig(f)
        analysis = try IntAnalysis(f, config)
        hyper = try IntHyperSynthesis(f, config)
        entropy = try IntEntropyModel(f, config)
        synthesis = try IntSynthesis(f)
        zTables = CDFTableSet(cdf: try f.int32("z.cdf"), offsets: try f.int32("z.offsets"), tails: try f.int32("z.tails"))
        if let why = zTables.validate() { throw .malformed("z CDF tables: \(why)") }
        guard zTables.count == config.hyper else { throw .malformed("z CDF tables do not match the hyper-latent width") }
    }

    /// The quality-independent first half of encoding: the padded image through g_a.
    /// `encode(_:quality256:_:)` codes it at any quality, so one analysis serves many rates.
    public struct Analysed: Sendable {
        public let width: Int, height: Int, paddedWidth: Int
        public let color: ColorFormat
        let y: IntTensor
    }

    /// Runs g_a on interleaved RGB (gray images: R = G = B, color .gray).
    public func analyse(rgb: [UInt8], width: Int, height: Int, color: ColorFormat,
                        _ kn: Kernels) throws(CodecError) -> Analysed {
        guard width >= 1, height >= 1, width <= Bitstream.maxSide, height <= Bitstream.maxSide,
              rgb.count == 3 * width * height else {
            throw .badImage("image of \(width)x\(height) with \(rgb.count) bytes cannot be coded")
        }
        try IntCodec.checkSize(width: width, height: height)
        let (px, pw, ph) = IntAnalysis.padReplicate(rgb: rgb, width: width, height: height, multiple: 64)
        return Analysed(width: width, height: height, paddedWidth: pw, color: color,
                        y: analysis.y(pixels: px, h: ph, w: pw, kn))
    }

    /// Encodes interleaved RGB (gray images: R = G = B, color .gray) at a quality in 1/256 steps.
    /// Returns the bitstream and the reconstruction the decoder will produce (same layout as decode).
    public func encode(rgb: [UInt8], width: Int, height: Int, color: ColorFormat, quality256: Int,
                       _ kn: Kernels) throws(CodecError) -> (Bitstream, DecodedImage) {
        guard Bitstream.qualityRange.contains(quality256) else { throw .bitstream(.badQuality(quality256)) }
        return try encode(try analyse(rgb: rgb, width: width, height: height, color: color, kn),
                          quality256: quality256, kn)
    }

    /// Codes an analysed image at a quality in 1/256 steps (the second half of encoding).
    public func encode(_ a: Analysed, quality256: Int, _ kn: Kernels) throws(CodecError) -> (Bitstream, DecodedImage) {
        guard Bitstream.qualityRange.contains(quality256) else { throw .bitstream(.badQuality(quality256)) }
        let row = config.qualityIndex(quality256: quality256)
        let yg = analysis.gained(a.y, quality: row, kn)
        let zs = analysis.zSymbols(yGained: yg, kn)
        var zw = RansSymbolWriter(tables: zTables)
        for i in 0..<zs.data.count { zw.put(Int32(zs.data[i]), table: i % zs.c) }
        let psi = hyper(symbols: zs, kn)
        var coder = YEncoderCoder(y: yg, frac: config.yFracBits, tables: entropy.tables)
        let yHat = entropy.run(psi: psi, coder: &coder, kn)
        let rec = synthesis(yHat, quality: row, kn)
        let bs: Bitstream
        do {
            bs = try Bitstream(fingerprint: fingerprint, width: a.width, height: a.height, color: a.color,
                               quality256: quality256, zStream: zw.finish(), yStream: coder.writer.finish())
        } catch {
            throw .bitstream(error)
        }
        return (bs, IntCodec.crop(rec, paddedWidth: a.paddedWidth, width: a.width, height: a.height, color: a.color))
    }

    /// Decodes a parsed bitstream made with this model.
    public func decode(_ bs: Bitstream, _ kn: Kernels) throws(CodecError) -> DecodedImage {
        let h = bs.header
        do {
            try h.requireModel(fingerprint: fingerprint)
        } catch {
            throw .bitstream(error)
        }
        try IntCodec.checkSize(width: h.width, height: h.height)
        let ph = (h.height + 63) / 64 * 64, pw = (h.width + 63) / 64 * 64
        let row = config.qualityIndex(quality256: h.quality256)
        let hyperC = config.hyper
        let (zs, zClean) = RansSymbolReader.withReader(bs.zStream, tables: zTables) { r -> IntTensor in
            var t = IntTensor(h: ph / 64, w: pw / 64, c: hyperC)
            for i in 0..<t.data.count { t.data[i] = Int16(clamping: r.get(table: i % hyperC)) }
            return t
        }
        guard zClean else { throw .corrupt("the hyper-latent (z) stream does not decode cleanly") }
        let psi = hyper(symbols: zs, kn)
        let em = entropy
        let (yHat, yClean) = RansSymbolReader.withReader(bs.yStream, tables: entropy.tables) { r -> IntTensor in
            var coder = YDecoderCoder(reader: r)
            let y = em.run(psi: psi, coder: &coder, kn)
            r = coder.reader
            return y
        }
        guard yClean else { throw .corrupt("the latent (y) stream does not decode cleanly") }
        let rec = synthesis(yHat, quality: row, kn)
        return IntCodec.crop(rec, paddedWidth: pw, width: h.width, height: h.height, color: h.color)
    }

    /// Refuses images whose padded size exceeds maxPixels.
    static func checkSize(width: Int, height: Int) throws(CodecError) {
        let padded = (width + 63) / 64 * 64 * ((height + 63) / 64 * 64)
        guard padded <= maxPixels else {
            throw .badImage("\(width)x\(height) is larger than this codec handles (at most \(maxPixels) pixels after "
                            + "padding to multiples of 64; tiled coding is not implemented yet)")
        }
    }

    /// Top-left width x height of a padded RGB image; gray keeps one channel: round((R+G+B)/3).
    static func crop(_ rgb: [UInt8], paddedWidth pw: Int, width: Int, height: Int, color: ColorFormat) -> DecodedImage {
        let ch = color == .gray ? 1 : 3
        var out = [UInt8](repeating: 0, count: ch * width * height)
        for y in 0..<height {
            for x in 0..<width {
                let s = 3 * (y * pw + x)
                if ch == 1 {
                    out[y * width + x] = UInt8((Int(rgb[s]) + Int(rgb[s + 1]) + Int(rgb[s + 2]) + 1) / 3)
                } else {
                    let d = 3 * (y * width + x)
                    out[d] = rgb[s]
                    out[d + 1] = rgb[s + 1]
                    out[d + 2] = rgb[s + 2]
                }
            }
        }
        return DecodedImage(width: width, height: height, color: color, pixels: out)
    }
}
