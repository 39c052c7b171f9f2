// LayerReportTests: the per-layer SQNR report of the integer g_s of hybrid-nano against the
// float g_s (issue 4), and that a wrong scale shows up in it.
import Foundation
import QuantModel
import Testing
@testable import Calibrate

/// The nano g_s calibrated on the golden crop: model file, tensor scales, float model and samples.
func nanoLayerReport() throws -> (ModelFile, [String: Double], FloatModel, [SynthesisSample]) {
    let model = try Fixtures.model()
    let x = try Fixtures.golden().tensor("x")
    let img = FloatTensor(channels: 3, height: x.height, width: x.width, data: x.data)
    let (stats, samples) = try observeCodec(model, images: [img], qualities: Array(1...model.config.qualities))
    var q = LayerQuantizer(stats: stats, writer: ModelFileWriter())
    try quantizeDecoder(model, &q)
    return (try ModelFile(bytes: q.writer.serialize()), q.tensorScales, model, samples)
}

/// Every reported tensor of g_s within 20 dB SQNR of the float one, and the report covers every
/// block's norms, convolutions and outputs.
@Test func layerReportCoversGsAndIsAccurate() throws {
    let (file, scales, model, samples) = try nanoLayerReport()
    let mid = (model.config.qualities + 1) / 2
    let sample = try #require(samples.first { $0.quality == mid })
    let rows = layerReport(model: model, file: file, scales: scales, sample: sample)
    let names = Set(rows.map(\.name))
    for r in rows {
        print("nano g_s layer \(r.name): \(r.weightBits.map { "w\($0) a16" } ?? "a16") \(String(format: "%.2f", r.sqnr)) dB")
        #expect(r.sqnr >= 20, "\(r.name): \(r.sqnr) dB")
        #expect(r.activationBits == 16)
    }
    var blocks = 0
    for (i, stage) in [2, 1, 0].enumerated() {
        #expect(names.contains("g_s.\(2 * i)") && names.contains("g_s.\(2 * i).0"), "Up g_s.\(2 * i)")
        for b in 0..<model.config.depths[stage] {
            let n = "g_s.\(2 * i + 1).\(b)"
            var want = [n, n + ".norm2", n + ".ffn.fc1", n + ".ffn.gate", n + ".ffn.fc2", n + ".ffn"]
            if model.config.stageTypes[stage] != "identity" { want += [n + ".norm1", n + ".mid", n + ".spatial"] }
            if model.config.stageTypes[stage] == "conv" {
                want += [".pw1", ".gelu", ".dw", ".pw2"].map { n + ".spatial" + $0 }
            } else if model.config.stageTypes[stage] == "attn" {
                want += [".qkv", ".attn", ".proj"].map { n + ".spatial" + $0 }
            }
            for w in want { #expect(names.contains(w), "report lacks \(w)") }
            #expect(layerWeightBits(file, n + ".ffn.fc1") == 8)
            blocks += 1
        }
    }
    #expect(blocks > 0)
    #expect(names.contains("g_s.6") && names.contains("y_hat_inv_gained"))
}

/// A deliberately wrong scale (x2) for one norm makes that layer's SQNR collapse (to about 0 dB),
/// and leaves the others as they were: the report measures what it claims.
@Test func layerReportDetectsAWrongScale() throws {
    let (file, scales, model, samples) = try nanoLayerReport()
    let sample = samples[0]
    let good = Dictionary(uniqueKeysWithValues: layerSQNR(model: model, file: file, scales: scales, sample: sample)
        .map { ($0.name, $0.sqnr) })
    let victim = "g_s.1.0.norm2"
    let goodV = try #require(good[victim])
    var wrong = scales
    wrong[victim] = try #require(scales[victim]) * 2
    let bad = Dictionary(uniqueKeysWithValues: layerSQNR(model: model, file: file, scales: wrong, sample: sample)
        .map { ($0.name, $0.sqnr) })
    let badV = try #require(bad[victim])
    #expect(goodV >= 20 && badV < 1, "\(victim): \(goodV) dB -> \(badV) dB")
    for (k, v) in good where k != victim { #expect(bad[k] == v, "\(k) changed") }
}

/// The entropy side (h_s, and the SCCTX context / spatial / parameter networks of every group) and
/// g_a are in the report too, each tensor within 20 dB SQNR of the float one.
@Test func layerReportCoversEntropyNetworksAndAnalysis() throws {
    let model = try Fixtures.model()
    let x = try Fixtures.golden().tensor("x")
    let img = FloatTensor(channels: 3, height: x.height, width: x.width, data: x.data)
    let (stats, samples) = try observeCodec(model, images: [img], qualities: Array(1...model.config.qualities))
    var q = LayerQuantizer(stats: stats, writer: ModelFileWriter())
    try quantizeCodec(model, &q)
    let file = try ModelFile(bytes: q.writer.serialize())
    let scales = q.tensorScales
    let mid = (model.config.qualities + 1) / 2
    let sample = try #require(samples.first { $0.quality == mid })
    let ent = entropyLayerReport(model: model, file: file, scales: scales, sample: sample)
    let names = Set(ent.map(\.name))
    var want = ["h_s.0", "h_s.1", "h_s.1.ffn.gate", "h_s.4"]
    for k in 0..<model.config.groups.count {
        want += ["pa.\(k)", "pa.\(k).inp", "sc.\(k)"]
        if k > 0 { want += ["cc.\(k)", "cc.\(k).inp"] }
    }
    for w in want { #expect(names.contains(w), "entropy report lacks \(w)") }
    for r in ent { #expect(r.sqnr >= 20, "\(r.name): \(r.sqnr) dB") }
    let ga = analysisLayerReport(model: model, file: file, scales: scales, image: img)
    let gaNames = Set(ga.map(\.name))
    for w in ["g_a.0", "g_a.6"] { #expect(gaNames.contains(w), "g_a report lacks \(w)") }
    #expect(ga.count >= 10)
    for r in ga { #expect(r.sqnr >= 20, "\(r.name): \(r.sqnr) dB") }
}
