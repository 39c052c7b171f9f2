// IntSynthesisTests: the calibrated integer g_s of hybrid-nano against the float g_s, and its
// bit-exactness across kernel variants and thread counts.
import FixedPoint
import Foundation
import ImageIO
import QuantModel
import Testing
@testable import Calibrate

/// Calibrates the nano g_s on the golden crop at every quality; returns the model file bytes
/// and the float samples.
func nanoSynthesis() throws -> (ModelFile, [SynthesisSample], FloatModel) {
    let model = try Fixtures.model()
    let x = try Fixtures.golden().tensor("x")
    let img = FloatTensor(channels: 3, height: x.height, width: x.width, data: x.data)
    let (stats, samples) = try observeCodec(model, images: [img], qualities: Array(1...model.config.qualities))
    var q = LayerQuantizer(stats: stats, writer: ModelFileWriter())
    try quantizeDecoder(model, &q)
    return (try ModelFile(bytes: q.writer.serialize()), samples, model)
}

/// Stated fidelity of the integer g_s to the float one, on the calibration crop itself:
/// PSNR of the 8-bit outputs >= 40 dB at every quality.
@Test func integerSynthesisTracksFloat() throws {
    let (file, samples, model) = try nanoSynthesis()
    let syn = try IntSynthesis(file)
    let kn = Kernels.best()
    for s in samples {
        let yq = fixedPointLatent(s.yHat, fracBits: syn.config.yFracBits)
        let got = syn(yq, quality: syn.config.qualityIndex(level: s.quality), kn)
        let want = rgbBytes(s.xHat)
        let psnr = PSNR.compute(got, want)
        print("nano integer g_s vs float, quality \(s.quality): \(String(format: "%.2f", psnr)) dB")
        #expect(psnr >= 40, "quality \(s.quality): \(psnr) dB")
    }
    _ = model
}

/// The same bytes for the C references, the best variants, and 1, 2 or 3 threads.
@Test func integerSynthesisIsBitExactAcrossVariantsAndThreads() throws {
    let (file, samples, _) = try nanoSynthesis()
    let syn = try IntSynthesis(file)
    let s = samples[3]
    let yq = fixedPointLatent(s.yHat, fracBits: syn.config.yFracBits)
    let reference = syn(yq, quality: syn.config.qualityIndex(level: s.quality), Kernels(flags: 0))
    for threads in [1, 2, 3] {
        s2c_set_threads(Int32(threads))
        #expect(syn(yq, quality: syn.config.qualityIndex(level: s.quality), Kernels.best()) == reference, "\(threads) threads")
        #expect(syn(yq, quality: syn.config.qualityIndex(level: s.quality), Kernels(flags: 0)) == reference, "C reference, \(threads) threads")
    }
    s2c_set_threads(0)
}

/// Same inputs, same model bytes.
@Test func calibrationIsDeterministic() throws {
    let a = try nanoSynthesis().0
    let b = try nanoSynthesis().0
    #expect(a.bytes == b.bytes)
}
