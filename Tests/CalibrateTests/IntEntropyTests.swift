// IntEntropyTests: the integer hyper-synthesis and SCCTX parameter networks of hybrid-nano:
// encoder and decoder reconstruct the same y_hat' from the same symbols, and the integer
// means, table indices and code lengths track the float entropy model.
import FixedPoint
import Foundation
import QuantModel
import Testing
@testable import Calibrate

/// Encoder side: computes s = round(y' - mean) (half up, integers only) and records it.
struct RecordingCoder: SymbolCoder {
    let y: IntTensor            // y' in fixed point (h, w, latent)
    let frac: Int
    var symbols: [Int32] = []
    var tables: [Int] = []

    mutating func symbol(channel: Int, position: Int, mean: Int32, table: Int) -> Int32 {
        let v = Int32(y.data[position * y.c + channel]) - mean
        let s = (v + (1 << (frac - 1))) >> frac
        symbols.append(s)
        tables.append(table)
        return s
    }
}

/// Decoder side: replays the recorded symbols in order, checking it asks for the same tables.
struct ReplayCoder: SymbolCoder {
    let symbols: [Int32]
    let tables: [Int]
    var next = 0
    var tableMismatches = 0

    mutating func symbol(channel: Int, position: Int, mean: Int32, table: Int) -> Int32 {
        if table != tables[next] { tableMismatches += 1 }
        next += 1
        return symbols[next - 1]
    }
}

/// Code length in bits of symbol s under table t (escape: its own cost plus 32 raw bits).
func bits(_ set: CDFTableSet, _ t: Int, _ s: Int32) -> Double {
    let tail = set.tails[t]
    let o = Int(set.offsets[t])
    let i = abs(s) > tail ? 2 * Int(tail) + 1 : Int(s + tail)
    let f = Double(set.cdf[o + i + 1] - set.cdf[o + i])
    return -log2(f / 65536) + (abs(s) > tail ? 32 : 0)
}

@Test func integerEntropyModelIsSymmetricAndTracksFloat() throws {
    let (file, samples, model) = try nanoSynthesis()
    let cfg = try IntConfig(file)
    let hs = try IntHyperSynthesis(file, cfg)
    let em = try IntEntropyModel(file, cfg)
    let syn = try IntSynthesis(file)
    let kn = Kernels.best()
    for s in samples {
        // z symbols from the float z_hat (integers plus the median).
        var zs = IntTensor(h: s.zHat.height, w: s.zHat.width, c: s.zHat.channels)
        for c in 0..<zs.c {
            for p in 0..<s.zHat.plane {
                zs.data[p * zs.c + c] = Int16((s.zHat.data[c * s.zHat.plane + p] - model.prior.medians[c]).rounded())
            }
        }
        let psi = hs(symbols: zs, kn)
        var enc = RecordingCoder(y: fixedPointLatent(s.yGained, fracBits: cfg.yFracBits), frac: cfg.yFracBits)
        let yEnc = em.run(psi: psi, coder: &enc, kn)
        var dec = ReplayCoder(symbols: enc.symbols, tables: enc.tables)
        let yDec = em.run(psi: psi, coder: &dec, kn)
        #expect(yDec == yEnc && dec.tableMismatches == 0, "decoder diverged from encoder")

        // Compare with the float entropy model: symbols, and code lengths.
        let floatSym = zip(s.entropy.yHat.data, s.entropy.mean.data).map { Int32(($0 - $1).rounded()) }
        // Reference code length: the same integer tables, indexed by the float model's own sigma
        // and coding its own symbols, so only the integer networks' error is measured.
        let scales = GaussianTables.scales()
        let mids = (0..<scales.count - 1).map { (scales[$0] * scales[$0 + 1]).squareRoot() }
        var intBits = 0.0, refBits = 0.0, same = 0
        // Recorded order: group, pass, position, channel-in-group; map back to CHW indices.
        var i = 0
        var start = 0
        let w = psi.w, n = psi.h * psi.w
        for gk in cfg.groups {
            for pass in 0..<2 {
                for p in 0..<n where (p / w + p % w) % 2 == pass {
                    for c in 0..<gk {
                        intBits += bits(em.tables, enc.tables[i], enc.symbols[i])
                        let sigma = max(Double(s.entropy.scale.data[(start + c) * n + p]), 0.11)
                        refBits += bits(em.tables, mids.filter { $0 <= sigma }.count, floatSym[(start + c) * n + p])
                        if floatSym[(start + c) * n + p] == enc.symbols[i] { same += 1 }
                        i += 1
                    }
                }
            }
            start += gk
        }
        let floatBits = FloatModel.bits(s.entropy.yLik)
        let agree = Double(same) / Double(i)
        let psnr = FloatModel.psnr(syn(yDec, quality: s.quality, kn), rgbBytes(s.xHat))
        print(String(format: "nano quality %d: y bits integer %.1f, float model with integer tables %.1f (float likelihoods %.1f), symbols equal %.1f%%, decoded x vs float %.2f dB",
                     s.quality, intBits, refBits, floatBits, 100 * agree, psnr))
        #expect(agree >= 0.98, "only \(agree) of the symbols match the float model's")
        #expect(abs(intBits - refBits) <= 0.03 * refBits + 16, "integer code length \(intBits) vs \(refBits)")
        #expect(psnr >= 35, "decoded image \(psnr) dB from the float decoder's")
    }
}
