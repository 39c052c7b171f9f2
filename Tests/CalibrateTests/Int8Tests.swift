// Int8Tests: int8 GEMM inputs (docs/integer-design.md): a model with every g_s candidate in
// int8 codes bit-exactly on every kernel path and stays close to float; the greedy choice keeps
// its fidelity budget.
import FixedPoint
import Foundation
import QuantModel
import Testing
@testable import Calibrate

/// Statistics and samples of nano on the golden crop (every quality).
private func nanoObserved() throws -> (FloatModel, ActivationStats, [SynthesisSample], FloatTensor) {
    let model = try Fixtures.model()
    let x = try Fixtures.golden().tensor("x")
    let img = FloatTensor(rgb8: FloatTensor(channels: 3, height: x.height, width: x.width, data: x.data).rgb8(),
                          width: x.width, height: x.height)
    let (stats, samples) = try observeCodec(model, images: [img], qualities: Array(1...model.config.qualities))
    return (model, stats, samples, img)
}

@Test func int8InputsCodeBitExactlyAndStayClose() throws {
    let (model, stats, samples, img) = try nanoObserved()
    let candidates = int8Candidates(model.gS)
    #expect(candidates.count >= 10 && !candidates.contains("g_s.0.0") && !candidates.contains { $0.hasSuffix(".proj") })
    var q = LayerQuantizer(stats: stats, writer: ModelFileWriter())
    q.int8Inputs = Set(candidates)
    try quantizeCodec(model, &q)
    let file = try ModelFile(bytes: q.writer.serialize())
    for c in candidates { #expect(try IntConv(file, c).inputBits == 8, "\(c)") }
    #expect(try IntConv(file, "g_s.0.0").inputBits == 16)
    // Every int8 tensor is clamped to +-127 by its producer, and the report says a8.
    let rows = layerReport(model: model, file: file, scales: q.tensorScales, sample: samples[3], int8: q.int8Tensors)
    #expect(rows.contains { $0.activationBits == 8 })
    // Fidelity: lower than int16 but still close to float.
    let syn = try IntSynthesis(file)
    for r in compareSynthesis(syn, samples, Kernels.best()) { #expect(r.psnr > 30, "quality \(r.quality): \(r.psnr) dB") }
    // Codec: the decoder reproduces the encoder's reconstruction on the C reference and the best
    // kernels, at 1 and 3 threads, and in bands.
    let codec = try IntCodec(model: file)
    let px = img.rgb8()
    let (bs, rec) = try codec.encode(rgb: px, width: img.width, height: img.height, color: .rgb, quality256: 900,
                                     Kernels(flags: 0))
    let parsed = try Bitstream(bytes: bs.serialize())
    for threads in [1, 3] {
        s2c_set_threads(Int32(threads))
        #expect(try codec.decode(parsed, Kernels.best()) == rec, "best kernels, \(threads) threads")
        #expect(try codec.decode(parsed, Kernels(flags: 0)) == rec, "C reference, \(threads) threads")
    }
    s2c_set_threads(0)
    var banded = Kernels.best()
    banded.bandPixels = 5
    #expect(try codec.decode(parsed, banded) == rec)
}

@Test func int8ChoiceKeepsItsBudget() throws {
    let (model, stats, samples, _) = try nanoObserved()
    let sel = samples.filter { [1, 4, 7].contains($0.quality) }
    let choice = try chooseInt8Inputs(model, stats: stats, samples: sel, budgetDB: 0.5)
    #expect(choice.cost.count == int8Candidates(model.gS).count)
    #expect(Set(choice.chosen).isSubset(of: Set(choice.cost.map(\.name))))
    // The summed single-candidate costs fit the budget; measured together they may interact a
    // little, so allow 0.25 dB beyond it.
    #expect(choice.chosenPSNR >= choice.basePSNR - 0.75, "\(choice.basePSNR) -> \(choice.chosenPSNR) dB")
    let none = try chooseInt8Inputs(model, stats: stats, samples: sel, budgetDB: 0)
    #expect(none.chosen.allSatisfy { n in none.cost.first { $0.name == n }!.mse == 0 })
    let all = try chooseInt8Inputs(model, stats: stats, samples: sel, budgetDB: 10)
    #expect(all.chosen.count >= choice.chosen.count)
}
