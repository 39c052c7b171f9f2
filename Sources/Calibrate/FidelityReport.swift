// FidelityReport.swift: the calibrator's reports as text: the integer codec against the float
// model per quality (calibrate, compare) and the per-layer SQNR tables (calibrate).
import Foundation
import QuantModel

/// The integer codec of `file` against the float model, per quality level, averaged over the
/// samples (observeCodec's samples of `images`): y' SQNR of the integer encoder, PSNR of the
/// integer g_s and of the whole integer decoder against the float decoder, the share of equal
/// latent symbols, and y code lengths. `progress(done, total)` counts samples twice (g_s, then
/// the decoder) and images once (the encoder).
public func fidelityReport(_ fm: FloatModel, _ file: ModelFile, images: [FloatTensor], samples: [SynthesisSample],
                           title: String, workers: Int = 0,
                           progress: @escaping (Int, Int) -> Void = { _, _ in }) throws -> String {
    let kn = Kernels.best()
    let qualities = Array(1...fm.config.qualities)
    let n = samples.count, total = 2 * n + images.count
    let syn = try IntSynthesis(file)
    let res = compareSynthesis(syn, samples, kn, workers: workers) { progress($0, total) }
    let dec = try compareDecoder(file, samples, fm, kn, workers: workers) { progress(n + $0, total) }
    let enc = try compareEncoder(file, images: images, samples: samples, qualitiesPerImage: qualities.count,
                                 padMultiple: fm.config.padMultiple, kn, workers: workers) { progress(2 * n + $0, total) }
    var out = "integer codec vs float model \(title):\n"
    out += "  quality | y' SQNR  | g_s PSNR | decoder PSNR | symbols equal | y bits int / float sigmas, int tables / float likelihoods\n"
    for level in qualities {
        let idx = samples.indices.filter { samples[$0].quality == level }
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(v.count, 1)) }
        let d = idx.map { dec[$0] }
        out += String(format: "  %7d | %5.2f dB | %5.2f dB | %9.2f dB | %12.2f%% | %.0f / %.0f / %.0f%@\n", level,
                      mean(idx.map { enc[$0] }), mean(idx.map { res[$0].psnr }), mean(d.map(\.psnr)),
                      100 * mean(d.map(\.symbolAgreement)), mean(d.map(\.integerBits)),
                      mean(d.map(\.floatTableBits)), mean(d.map(\.floatLikelihoodBits)),
                      d.allSatisfy(\.symmetric) ? "" : "  DECODER DIVERGED")
    }
    return out
}

/// Per-layer bits and SQNR of the integer networks against the float ones (g_s, h_s + SCCTX on
/// the first image's sample at the middle quality, g_a on the first image); the 5 worst layers
/// of each part are marked. `progress(done, 3)` after each part.
public func layerReports(_ fm: FloatModel, _ file: ModelFile, scales: [String: Double], samples: [SynthesisSample],
                         image: FloatTensor, int8: Set<String> = [], progress: (Int, Int) -> Void = { _, _ in }) -> String {
    let mid = (fm.config.qualities + 1) / 2
    guard let s = samples.first(where: { $0.quality == mid }) else { return "" }
    var out = layerTable("g_s (synthesis)", layerReport(model: fm, file: file, scales: scales, sample: s, int8: int8),
                         quality: mid)
    progress(1, 3)
    out += layerTable("h_s and SCCTX (entropy parameters; SCCTX networks as first run: anchor pass)",
                      entropyLayerReport(model: fm, file: file, scales: scales, sample: s), quality: mid)
    progress(2, 3)
    out += layerTable("g_a (analysis)", analysisLayerReport(model: fm, file: file, scales: scales, image: image),
                      quality: nil)
    progress(3, 3)
    return out
}

/// One per-layer table: every row, the 5 lowest SQNRs marked and listed.
func layerTable(_ title: String, _ rows: [LayerSQNR], quality: Int?) -> String {
    // The same tensor under a second name (Up = its conv shuffled, spatial = pw2 / proj,
    // ffn = fc2, cc.k = cc.k.out, pa.k = pa.k.out) is listed but not ranked twice.
    let names = Set(rows.map(\.name))
    let ranked = rows.filter { r in
        !(names.contains(r.name + ".0") || names.contains(r.name + ".out") || r.name.hasSuffix(".ffn")
          || r.name.hasSuffix(".spatial"))
    }.sorted { $0.sqnr < $1.sqnr }.prefix(5)
    let worst = Set(ranked.map(\.name))
    func pad(_ t: String, _ n: Int) -> String { t.count >= n ? t : t + String(repeating: " ", count: n - t.count) }
    var out = "integer \(title) per layer vs float (first calibration image" + (quality.map { ", quality \($0)" } ?? "") + "):\n"
    out += "  \(pad("layer", 34)) | \(pad("bits", 6)) | SQNR\n"
    for r in rows {
        let bits = (r.weightBits.map { "w\($0) " } ?? "") + "a\(r.activationBits)"
        out += "  \(pad(r.name, 34)) | \(pad(bits, 6)) | " + String(format: "%6.2f dB", r.sqnr)
            + (worst.contains(r.name) ? "  <- worst 5" : "") + "\n"
    }
    out += "  worst 5: " + ranked.map { "\($0.name) " + String(format: "%.2f dB", $0.sqnr) }.joined(separator: ", ") + "\n"
    return out
}
