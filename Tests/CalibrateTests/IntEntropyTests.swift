// IntEntropyTests: the integer hyper-synthesis and SCCTX parameter networks of hybrid-nano:
// encoder and decoder reconstruct the same y_hat' from the same symbols, and the integer
// symbols, code lengths and decoded image track the float model.
import FixedPoint
import Foundation
@testable import QuantModel
import Testing
@testable import Calibrate

@Test func integerEntropyModelIsSymmetricAndTracksFloat() throws {
    let (file, samples, model) = try nanoSynthesis()
    for r in try compareDecoder(file, samples, model, Kernels.best()) {
        print(String(format: "nano quality %d: y bits integer %.1f, float sigmas with integer tables %.1f "
                     + "(float likelihoods %.1f), symbols equal %.1f%%, decoded x vs float %.2f dB",
                     r.quality, r.integerBits, r.floatTableBits, r.floatLikelihoodBits, 100 * r.symbolAgreement, r.psnr))
        #expect(r.symmetric, "quality \(r.quality): decoder diverged from encoder")
        #expect(r.symbolAgreement >= 0.98, "only \(r.symbolAgreement) of the symbols match the float model's")
        #expect(abs(r.integerBits - r.floatTableBits) <= 0.03 * r.floatTableBits + 16)
        #expect(r.psnr >= 35, "decoded image \(r.psnr) dB from the float decoder's")
    }
}

/// The calibrator's code length is what the rANS writer spends on the same symbols: 16-bit
/// frequencies exactly, and escapes with their sign, length and magnitude bits.
@Test func codeLengthOfEscapes() {
    let set = CDFTableSet(cdf: [0, 16384, 49152, 65535, 65536], offsets: [0], tails: [1])
    #expect(codeLength(set, 0, 0) == 1)
    #expect(codeLength(set, 0, -1) == 2)
    // Escape (frequency 1: 16 bits), sign 1, length 5, |5| - 1 - 1 = 3 in 2 bits.
    #expect(codeLength(set, 0, 5) == 16 + 1 + 5 + 2)
    #expect(codeLength(set, 0, -2) == 16 + 1 + 5 + 0)
    #expect(codeLength(set, 0, Int32.min) == 16 + 1 + 5 + 31)
    for s: Int32 in [5, -2, 100_000, -70_000, Int32.max] {
        var w = RansSymbolWriter(tables: set)
        for _ in 0..<64 { w.put(s, table: 0) }
        let real = 8 * Double(w.finish().count), est = 64 * codeLength(set, 0, s)
        #expect(real >= est && real <= est + 40, "symbol \(s): \(real) bits written, \(est) estimated")
    }
}

/// The y and z bits the calibrator reports (compareDecoder.integerBits, codeLength) against the
/// length of the rANS streams the codec's writer produces from the same symbols and tables: equal
/// up to the coder's 4-byte state flush and the last byte's rounding.
@Test func estimatedBitsMatchTheRANSWriter() throws {
    let (file, samples, model) = try nanoSynthesis()
    let kn = Kernels.best()
    let cfg = try IntConfig(file)
    let hs = try IntHyperSynthesis(file, cfg)
    let em = try IntEntropyModel(file, cfg)
    let reported = try compareDecoder(file, samples, model, kn)
    let zTables = try IntCodec(model: file, decodeOnly: true).zTables
    for (i, s) in samples.enumerated() {
        let zs = s.zSymbols(model.prior.medians)
        var enc = RecordingCoder(y: fixedPointLatent(s.yGained, fracBits: cfg.yFracBits), frac: cfg.yFracBits)
        _ = em.run(psi: hs(symbols: zs, kn), coder: &enc, kn)
        var w = RansSymbolWriter(tables: em.tables)
        var est = 0.0
        for (sym, t) in zip(enc.symbols, enc.tables) {
            w.put(sym, table: t)
            est += codeLength(em.tables, t, sym)
        }
        let real = 8 * Double(w.finish().count)
        print(String(format: "nano quality %d: y %.1f bits estimated, %.0f written", s.quality, est, real))
        #expect(abs(reported[i].integerBits - est) < 1e-6 * est)
        #expect(real >= est && real <= est + 40, "quality \(s.quality): \(real) bits written, \(est) estimated")
        var zw = RansSymbolWriter(tables: zTables)
        var zEst = 0.0
        for j in 0..<zs.data.count {
            zw.put(Int32(zs.data[j]), table: j % zs.c)
            zEst += codeLength(zTables, j % zs.c, Int32(zs.data[j]))
        }
        let zReal = 8 * Double(zw.finish().count)
        #expect(zReal >= zEst && zReal <= zEst + 40, "quality \(s.quality): z \(zReal) bits written, \(zEst) estimated")
    }
}
