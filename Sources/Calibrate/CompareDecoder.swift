// CompareDecoder.swift: measures the integer decoder (h_s, SCCTX parameter networks, g_s)
// against the float model on the calibration samples, and checks that a decoder replaying the
// encoder's symbols reconstructs exactly the encoder's y_hat'.
import Foundation
import ImageIO
import QuantModel

/// Encoder side: s = round(y' - mean), half up, on integers; records symbols and tables.
public struct RecordingCoder: SymbolCoder {
    public let y: IntTensor
    public let frac: Int
    public var symbols: [Int32] = []
    public var tables: [Int] = []

    public init(y: IntTensor, frac: Int) {
        self.y = y
        self.frac = frac
    }

    public mutating func symbol(channel: Int, position: Int, mean: Int32, table: Int) -> Int32 {
        let s = latentSymbol(y.data[position * y.c + channel], mean: mean, frac: frac)
        symbols.append(s)
        tables.append(table)
        return s
    }
}

/// Decoder side: replays recorded symbols, counting table requests that differ from the encoder's.
public struct ReplayCoder: SymbolCoder {
    public let symbols: [Int32]
    public let tables: [Int]
    public var next = 0
    public var tableMismatches = 0

    public init(symbols: [Int32], tables: [Int]) {
        self.symbols = symbols
        self.tables = tables
    }

    public mutating func symbol(channel: Int, position: Int, mean: Int32, table: Int) -> Int32 {
        if table != tables[next] { tableMismatches += 1 }
        next += 1
        return symbols[next - 1]
    }
}

/// Code length in bits of symbol s under table t, as QuantModel's RansSymbolWriter codes it:
/// -log2 of its 16-bit frequency; an escape (|s| > tail) costs the escape index plus its raw
/// bits: the sign, a 5-bit length n and |s| - tail - 1 in n bits.
public func codeLength(_ set: CDFTableSet, _ t: Int, _ s: Int32) -> Double {
    let tail = Int64(set.tails[t])
    let o = Int(set.offsets[t])
    let escape = abs(Int64(s)) > tail
    let i = escape ? 2 * Int(tail) + 1 : Int(Int64(s) + tail)
    let f = Double(set.cdf[o + i + 1] - set.cdf[o + i])
    guard escape else { return -log2(f / 65536) }
    let magnitude = UInt64(abs(Int64(s)) - tail - 1)
    return -log2(f / 65536) + Double(1 + 5 + (64 - magnitude.leadingZeroBitCount))
}

extension SynthesisSample {
    /// The float model's z symbols round(z_hat - median) as the integer h_s's input (HWC).
    func zSymbols(_ medians: [Float]) -> IntTensor {
        var zs = IntTensor(h: zHat.height, w: zHat.width, c: zHat.channels)
        for c in 0..<zs.c {
            for p in 0..<zHat.plane {
                zs.data[p * zs.c + c] = Int16((zHat.data[c * zHat.plane + p] - medians[c]).rounded())
            }
        }
        return zs
    }

    /// The float model's y symbols round(y_hat - mean), CHW.
    var ySymbols: [Int32] { zip(entropy.yHat.data, entropy.mean.data).map { Int32(($0 - $1).rounded()) } }
}

/// One sample's comparison of the integer decoder with the float model.
public struct DecoderComparison {
    public var quality: Int
    /// Decoder replaying the encoder's symbols got the encoder's y_hat' and tables exactly.
    public var symmetric: Bool
    /// Fraction of y symbols equal to the float model's round(y' - mean).
    public var symbolAgreement: Double
    /// y code length with the integer networks and tables.
    public var integerBits: Double
    /// y code length of the float model's symbols and sigmas with the same integer tables.
    public var floatTableBits: Double
    /// -sum log2 of the float likelihoods (what training optimises).
    public var floatLikelihoodBits: Double
    /// PSNR of the integer decoder's 8-bit output against the float decoder's.
    public var psnr: Double
}

/// Runs encoder and decoder sides of the integer model on every sample.
public func compareDecoder(_ file: ModelFile, _ samples: [SynthesisSample], _ model: FloatModel,
                           _ kn: Kernels, workers: Int = 0,
                           progress: @escaping (Int) -> Void = { _ in }) throws -> [DecoderComparison] {
    let cfg = try IntConfig(file)
    let hs = try IntHyperSynthesis(file, cfg)
    let em = try IntEntropyModel(file, cfg)
    let syn = try IntSynthesis(file)
    let scales = GaussianTables.scales()
    let mids = (0..<scales.count - 1).map { (scales[$0] * scales[$0 + 1]).squareRoot() }
    let counter = ProgressCounter(total: samples.count) { done, _ in progress(done) }
    return try parallelMap(samples.count, workers: workers) { index in
        defer { counter.step() }
        let s = samples[index]
        let psi = hs(symbols: s.zSymbols(model.prior.medians), kn)
        var enc = RecordingCoder(y: fixedPointLatent(s.yGained, fracBits: cfg.yFracBits), frac: cfg.yFracBits)
        let yEnc = em.run(psi: psi, coder: &enc, kn)
        var dec = ReplayCoder(symbols: enc.symbols, tables: enc.tables)
        let yDec = em.run(psi: psi, coder: &dec, kn)
        // The coder sees group, pass, position (raster), channel in group: map back to CHW.
        let floatSym = s.ySymbols
        var intBits = 0.0, refBits = 0.0, same = 0, i = 0, start = 0
        let w = psi.w, n = psi.h * psi.w
        for gk in cfg.groups {
            for pass in 0..<2 {
                for p in 0..<n where (p / w + p % w) % 2 == pass {
                    for c in 0..<gk {
                        let j = (start + c) * n + p
                        intBits += codeLength(em.tables, enc.tables[i], enc.symbols[i])
                        let sigma = max(Double(s.entropy.scale.data[j]), scales[0])
                        refBits += codeLength(em.tables, mids.filter { $0 <= sigma }.count, floatSym[j])
                        if floatSym[j] == enc.symbols[i] { same += 1 }
                        i += 1
                    }
                }
            }
            start += gk
        }
        return DecoderComparison(quality: s.quality, symmetric: yDec == yEnc && dec.tableMismatches == 0,
                                 symbolAgreement: Double(same) / Double(max(i, 1)), integerBits: intBits,
                                 floatTableBits: refBits, floatLikelihoodBits: FloatModel.bits(s.entropy.yLik),
                                 psnr: PSNR.compute(syn(yDec, quality: cfg.qualityIndex(level: s.quality), kn), rgbBytes(s.xHat)))
    }
}

/// SQNR (dB) of the integer encoder's y' (g_a, gains) against the float model's y' for each
/// sample; `images` are the images the samples were made from, each at `qualitiesPerImage`
/// consecutive samples (observeCodec's order).
public func compareEncoder(_ file: ModelFile, images: [FloatTensor], samples: [SynthesisSample],
                           qualitiesPerImage: Int, padMultiple: Int, _ kn: Kernels,
                           workers: Int = 0, progress: @escaping (Int) -> Void = { _ in }) throws -> [Double] {
    precondition(samples.count == images.count * qualitiesPerImage)
    let cfg = try IntConfig(file)
    let ga = try IntAnalysis(file, cfg)
    let one = pow(2, -Double(cfg.yFracBits))
    let counter = ProgressCounter(total: images.count) { done, _ in progress(done) }
    return try parallelMap(images.count, workers: workers) { i -> [Double] in
        defer { counter.step() }
        let x = images[i].paddedReplicate(multiple: padMultiple)
        let y = ga.y(pixels: rgbBytes(x), h: x.height, w: x.width, kn)
        return samples[(i * qualitiesPerImage)..<((i + 1) * qualitiesPerImage)].map { s in
            let yg = ga.gained(y, quality: cfg.qualityIndex(level: s.quality), kn)
            return tensorSQNR(float: s.yGained, int: yg, scales: Array(repeating: one, count: yg.c))
        }
    }.flatMap { $0 }
}
