// IntAnalysisTests: the calibrated integer encoder front end of hybrid-nano (g_a, gains, h_a,
// z symbols) against the float model, the whole integer codec from pixels to pixels, and its
// bit-exactness across kernel variants and thread counts.
import FixedPoint
import Foundation
import ImageIO
import QuantModel
import Testing
@testable import Calibrate

/// The nano codec calibrated (quantizeCodec) on the golden 64x128 crop at every quality,
/// with the crop as 8-bit RGB.
struct NanoCodec: Sendable {
    var file: ModelFile
    var model: FloatModel
    var pixels: [UInt8]
    var height: Int, width: Int
    /// The float model's input: the same bytes / 255.
    var image: FloatTensor { FloatTensor(rgb8: pixels, width: width, height: height) }
}

/// Calibrated once and shared by the tests below (global lets initialize lazily, once).
let nanoCodecResult = Result { () throws -> NanoCodec in
    let model = try Fixtures.model()
    let x = try Fixtures.golden().tensor("x")
    let crop = FloatTensor(channels: 3, height: x.height, width: x.width, data: x.data)
    let pixels = crop.rgb8()
    let img = FloatTensor(rgb8: pixels, width: crop.width, height: crop.height)
    let (stats, _) = try observeCodec(model, images: [img], qualities: Array(1...model.config.qualities))
    var q = LayerQuantizer(stats: stats, writer: ModelFileWriter())
    try quantizeCodec(model, &q)
    return NanoCodec(file: try ModelFile(bytes: q.writer.serialize()), model: model, pixels: pixels,
                     height: crop.height, width: crop.width)
}

/// Fixed point Q(frac) HWC -> float CHW.
private func floatLatent(_ t: IntTensor, fracBits: Int) -> FloatTensor {
    var out = FloatTensor(channels: t.c, height: t.h, width: t.w)
    let one = Float(1 << fracBits)
    for p in 0..<(t.h * t.w) {
        for c in 0..<t.c { out.data[c * t.h * t.w + p] = Float(t.data[p * t.c + c]) / one }
    }
    return out
}

/// The float model's z symbols round(z - median) (half to even, as torch.round), HWC order.
private func floatZSymbols(_ model: FloatModel, _ yGained: FloatTensor) -> [Int16] {
    let z = model.hyperAnalysis(yGained)
    var s = [Int16](repeating: 0, count: z.data.count)
    for c in 0..<z.channels {
        for p in 0..<z.plane {
            s[p * z.channels + c] = Int16((z.data[c * z.plane + p] - model.prior.medians[c]).rounded(.toNearestOrEven))
        }
    }
    return s
}

/// The integer encoder then decoder: pixels -> y' -> z symbols -> psi -> y symbols (recorded)
/// -> y_hat' -> 8-bit RGB at the padded size.
private func integerCodec(_ file: ModelFile, pixels: [UInt8], h: Int, w: Int, quality: Int,
                          _ kn: Kernels) throws -> (yGained: IntTensor, zSymbols: IntTensor, ySymbols: [Int32], yHat: IntTensor, rgb: [UInt8]) {
    let cfg = try IntConfig(file)
    let ana = try IntAnalysis(file, cfg)
    let row = ana.config.qualityIndex(level: quality)
    let yg = ana.gained(ana.y(pixels: pixels, h: h, w: w, kn), quality: row, kn)
    let zs = ana.zSymbols(yGained: yg, kn)
    let psi = try IntHyperSynthesis(file, cfg)(symbols: zs, kn)
    var coder = RecordingCoder(y: yg, frac: cfg.yFracBits)
    let yHat = try IntEntropyModel(file, cfg).run(psi: psi, coder: &coder, kn)
    let rgb = try IntSynthesis(file)(yHat, quality: row, kn)
    return (yg, zs, coder.symbols, yHat, rgb)
}

/// Stated fidelity of the integer y' to the float y' on the calibration crop: SQNR >= 30 dB at
/// every quality.
@Test func integerGainedLatentTracksFloat() throws {
    let nano = try nanoCodecResult.get()
    let cfg = try IntConfig(nano.file)
    let ana = try IntAnalysis(nano.file, cfg)
    let kn = Kernels.best()
    let y = ana.y(pixels: nano.pixels, h: nano.height, w: nano.width, kn)
    let yFloat = nano.model.analysis(nano.image)
    for q in 1...cfg.qualities {
        let want = FloatModel.scaled(yFloat, nano.model.gains(quality: Float(q)).gain)
        let got = floatLatent(ana.gained(y, quality: cfg.qualityIndex(level: q), kn), fracBits: cfg.yFracBits)
        let db = sqnr(reference: want.data, approx: got.data)
        print("nano integer y' vs float, quality \(q): SQNR \(String(format: "%.2f", db)) dB")
        #expect(db >= 30, "quality \(q): \(db) dB")
    }
}

/// The integer z symbols equal the float model's round(z - median) for >= 95% of the elements
/// (over all qualities), each off by at most one.
@Test func integerZSymbolsMatchFloat() throws {
    let nano = try nanoCodecResult.get()
    let cfg = try IntConfig(nano.file)
    let ana = try IntAnalysis(nano.file, cfg)
    let kn = Kernels.best()
    let y = ana.y(pixels: nano.pixels, h: nano.height, w: nano.width, kn)
    let yFloat = nano.model.analysis(nano.image)
    var same = 0, total = 0, worst = 0
    for q in 1...cfg.qualities {
        let got = ana.zSymbols(yGained: ana.gained(y, quality: cfg.qualityIndex(level: q), kn), kn).data
        let want = floatZSymbols(nano.model, FloatModel.scaled(yFloat, nano.model.gains(quality: Float(q)).gain))
        #expect(got.count == want.count)
        for (a, b) in zip(got, want) {
            if a == b { same += 1 }
            worst = max(worst, abs(Int(a) - Int(b)))
            total += 1
        }
    }
    let agree = Double(same) / Double(total)
    print("nano integer z symbols vs float: \(same)/\(total) equal (\(String(format: "%.1f", 100 * agree))%), worst off by \(worst)")
    #expect(agree >= 0.95)
    #expect(worst <= 1)
}

/// The float codec (h_a, prior, h_s, SCCTX, g_s) run on a given y' at quality q: its y_hat' and
/// 8-bit reconstruction at the padded size.
private func floatCodec(_ model: FloatModel, yGained: FloatTensor, quality q: Int) -> (yHat: FloatTensor, rgb: [UInt8]) {
    let psi = model.hyperSynthesis(model.prior.quantize(model.hyperAnalysis(yGained)))
    let ent = model.entropyModel(yGained: yGained, psi: psi)
    return (ent.yHat, rgbBytes(model.synthesize(yHat: ent.yHat, quality: Float(q))))
}

/// Pixels -> integer encoder -> integer decoder, against two references: the float codec on the
/// float y' (the whole error) and the float codec on the integer y' (the decoder side alone).
/// Stated: >= 98% of the y symbols equal the float codec's. The untrained nano g_s turns each
/// flipped symbol (+-1 in y_hat') into a visible change, so the PSNR between the integer and
/// float reconstructions follows the few flips (measured 24...51 dB) and is bounded loosely.
@Test func integerCodecFromPixelsTracksFloat() throws {
    let nano = try nanoCodecResult.get()
    let kn = Kernels.best()
    let cfg = try IntConfig(nano.file)
    let yFloat = nano.model.analysis(nano.image)
    for q in 1...cfg.qualities {
        let r = try integerCodec(nano.file, pixels: nano.pixels, h: nano.height, w: nano.width, quality: q, kn)
        let ref = floatCodec(nano.model, yGained: FloatModel.scaled(yFloat, nano.model.gains(quality: Float(q)).gain), quality: q)
        let onInt = floatCodec(nano.model, yGained: floatLatent(r.yGained, fracBits: cfg.yFracBits), quality: q)
        let got = floatLatent(r.yHat, fracBits: cfg.yFracBits)
        let same = zip(got.data, ref.yHat.data).filter { abs($0 - $1) < 0.5 }.count
        let agree = Double(same) / Double(got.data.count)
        let vsFloat = PSNR.compute(r.rgb, ref.rgb), vsFloatOnInt = PSNR.compute(r.rgb, onInt.rgb)
        print(String(format: "nano integer codec from pixels, quality %d: y symbols equal to float %.1f%%, y_hat' SQNR %.2f dB; "
                     + "%.2f dB from the float codec, %.2f dB from the float codec on the integer y'; "
                     + "vs original: integer %.2f dB, float %.2f dB", q, 100 * agree,
                     sqnr(reference: ref.yHat.data, approx: got.data), vsFloat, vsFloatOnInt,
                     PSNR.compute(r.rgb, nano.pixels), PSNR.compute(ref.rgb, nano.pixels)))
        #expect(agree >= 0.98, "quality \(q): \(agree) of the y symbols match")
        #expect(vsFloat >= 20 && vsFloatOnInt >= 20, "quality \(q): \(vsFloat) dB, \(vsFloatOnInt) dB on the integer y'")
    }
}

/// The same y', z symbols, y symbols and pixels for the C references, the best variants, and
/// 1, 2 or 3 threads.
@Test func integerEncoderIsBitExactAcrossVariantsAndThreads() throws {
    let nano = try nanoCodecResult.get()
    let q = 4
    let ref = try integerCodec(nano.file, pixels: nano.pixels, h: nano.height, w: nano.width, quality: q, Kernels(flags: 0))
    for threads in [1, 2, 3] {
        s2c_set_threads(Int32(threads))
        for (label, kn) in [("best", Kernels.best()), ("C reference", Kernels(flags: 0))] {
            let r = try integerCodec(nano.file, pixels: nano.pixels, h: nano.height, w: nano.width, quality: q, kn)
            #expect(r.yGained == ref.yGained, "\(label), \(threads) threads: y'")
            #expect(r.zSymbols == ref.zSymbols, "\(label), \(threads) threads: z symbols")
            #expect(r.ySymbols == ref.ySymbols, "\(label), \(threads) threads: y symbols")
            #expect(r.rgb == ref.rgb, "\(label), \(threads) threads: pixels")
        }
    }
    s2c_set_threads(0)
}

/// padReplicate agrees with the float model's padding (model.py pad_to), and leaves aligned
/// images alone.
@Test func padReplicateMatchesFloatPadding() {
    let w = 70, h = 50
    let rgb = (0..<(w * h * 3)).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 211) }
    let (padded, pw, ph) = IntAnalysis.padReplicate(rgb: rgb, width: w, height: h, multiple: 64)
    #expect(pw == 128 && ph == 64)
    let want = FloatTensor(rgb8: rgb, width: w, height: h).paddedReplicate(multiple: 64).rgb8()
    #expect(padded == want)
    let (same, sw, sh) = IntAnalysis.padReplicate(rgb: padded, width: pw, height: ph, multiple: 64)
    #expect(same == padded && sw == pw && sh == ph)
}
