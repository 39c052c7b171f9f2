// FloatGoldenTests: the Swift float runtime reproduces the PyTorch golden vectors of hybrid-nano.
import Foundation
import Testing
@testable import Calibrate

/// Fixture files (made by `python train/export.py golden`).
enum Fixtures {
    static func path(_ name: String) throws -> String {
        let dir = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return dir.appendingPathComponent(name).path
    }

    static func model() throws -> FloatModel { try FloatModel(path: path("nano-weights.safetensors")) }
    static func golden() throws -> SafeTensorsFile { try SafeTensorsFile(path: path("nano-golden.safetensors")) }
}

/// Stated tolerance: max |swift - torch| over every element, for every golden tensor.
let goldenTolerance: Float = 1e-4

private func check(_ name: String, _ got: FloatTensor, _ golden: SafeTensorsFile, key: String? = nil,
                   tolerance: Float = goldenTolerance) throws {
    let want = try golden.tensor(key ?? name)
    #expect(got.shape == want.shape, "\(name): shape \(got.shape), golden \(want.shape)")
    guard got.shape == want.shape else { return }
    let err = got.maxAbsDifference(want)
    print("golden \(name): max abs error \(err)")
    #expect(err <= tolerance, "\(name): max abs error \(err) > \(tolerance)")
}

@Test func configFromMetadata() throws {
    let m = try Fixtures.model()
    #expect(m.config.name == "hybrid-nano")
    #expect(m.config.groups == [2, 2, 4, 8, 16])
    #expect(m.config.stageTypes == ["conv", "attn", "attn"])
    #expect(m.config.headDim == 8 && m.config.qualities == 7)
}

@Test func wholeForwardMatchesGolden() throws {
    let m = try Fixtures.model()
    let g = try Fixtures.golden()
    let x = try g.tensor("x")
    let q = try g.floats("quality")[0]
    let out = try m.forward(x: x, quality: q)
    let e = out.encoding
    try check("y", e.y, g)
    try check("y_gained", e.yGained, g)
    try check("z_hat", e.zHat, g)
    try check("z_lik", e.zLik, g)
    try check("psi", e.psi, g)
    try check("g0_anchor_scale", e.entropy.g0AnchorScale, g)
    try check("g0_anchor_mean", e.entropy.g0AnchorMean, g)
    try check("y_hat", e.yHat, g)
    try check("y_lik", e.yLik, g)
    try check("x_hat", out.xHat, g)
    // bpp as bits_per_pixel computes it, from the golden likelihoods.
    let want = (FloatModel.bits(try g.tensor("y_lik")) + FloatModel.bits(try g.tensor("z_lik"))) / Double(64 * 128)
    print("golden bpp: swift \(e.bitsPerPixel), torch \(want)")
    #expect(abs(e.bitsPerPixel - want) < 1e-3 * max(1, want))
}

/// g_s alone from the golden y_hat: isolates the decoder from rounding flips in the entropy model.
@Test func synthesisFromGoldenYHat() throws {
    let m = try Fixtures.model()
    let g = try Fixtures.golden()
    let xHat = m.synthesize(yHat: try g.tensor("y_hat"), quality: try g.floats("quality")[0])
    try check("x_hat (g_s only)", xHat, g, key: "x_hat")
}

/// h_s, the prior and SCCTX from golden inputs: isolates them from g_a and h_a.
@Test func entropyModelFromGoldenInputs() throws {
    let m = try Fixtures.model()
    let g = try Fixtures.golden()
    try check("psi (h_s only)", m.hyperSynthesis(try g.tensor("z_hat")), g, key: "psi")
    try check("z_lik (prior only)", m.prior.likelihoods(try g.tensor("z_hat")), g, key: "z_lik")
    let ent = m.entropyModel(yGained: try g.tensor("y_gained"), psi: try g.tensor("psi"))
    try check("g0_anchor_scale (SCCTX only)", ent.g0AnchorScale, g, key: "g0_anchor_scale")
    try check("g0_anchor_mean (SCCTX only)", ent.g0AnchorMean, g, key: "g0_anchor_mean")
    try check("y_hat (SCCTX only)", ent.yHat, g, key: "y_hat")
    try check("y_lik (SCCTX only)", ent.yLik, g, key: "y_lik")
}

@Test func observerSeesEveryLayer() throws {
    let m = try Fixtures.model()
    let g = try Fixtures.golden()
    var names: [String: Int] = [:]
    _ = try m.forward(x: try g.tensor("x"), quality: 3.5) { name, _ in names[name, default: 0] += 1 }
    for n in ["g_a.0", "g_a.1.0.spatial.gelu", "g_a.3.0.spatial.attn", "g_a.6", "h_a.4", "h_s.4", "g_s.0",
              "g_s.6", "g_s.6.0", "cc.4", "sc.4", "pa.0.blocks.0.ffn.gate", "y_gained", "z_hat"] {
        #expect(names[n] != nil, "observer never saw \(n)")
    }
    #expect(names["pa.2"] == 2)     // anchor pass and non-anchor pass
}

/// A non-multiple-of-64 input is replicate-padded on the bottom/right and the output cropped.
@Test func paddingAndCrop() throws {
    let m = try Fixtures.model()
    let g = try Fixtures.golden()
    let small = try g.tensor("x").cropped(height: 50, width: 70)
    let padded = small.paddedReplicate(multiple: 64)
    #expect(padded.height == 64 && padded.width == 128)
    #expect(padded[2, 63, 127] == small[2, 49, 69])
    #expect(padded[1, 10, 100] == small[1, 10, 69])
    #expect(padded[0, 60, 5] == small[0, 49, 5])
    #expect(padded.cropped(height: 50, width: 70) == small)
    let out = try m.forward(x: small, quality: 2)
    #expect(out.xHat.height == 50 && out.xHat.width == 70)
    #expect(out.encoding.y.height == 4 && out.encoding.y.width == 8)
    // The float runtime is not bit-exact across calls (only the integer codec is): buffer alignment
    // (e.g. under AddressSanitizer) moves a few values by an ulp; the crop must agree to float noise.
    let full = m.synthesize(yHat: out.encoding.yHat, quality: 2)
    #expect(full.cropped(height: 50, width: 70).maxAbsDifference(out.xHat) < 1e-5)
    let direct = try m.forward(x: padded, quality: 2)
    #expect(direct.xHat.cropped(height: 50, width: 70).maxAbsDifference(out.xHat) < 1e-5)
}

@Test func gainInterpolation() throws {
    let m = try Fixtures.model()
    // Integer levels reproduce the stored logs; out-of-range qualities clamp.
    #expect(m.gains(quality: 3).gain == m.logGain[2].map { exp($0) })
    #expect(m.gains(quality: 7).invGain == m.logInvGain[6].map { exp($0) })
    #expect(m.gains(quality: 0.2).gain == m.gains(quality: 1).gain)
    #expect(m.gains(quality: 9).gain == m.gains(quality: 7).gain)
    let mid = m.gains(quality: 2.5).gain
    for i in 0..<mid.count {
        #expect(abs(mid[i] - exp(0.5 * m.logGain[1][i] + 0.5 * m.logGain[2][i])) < 1e-6)
    }
}

@Test func missingWeightsError() {
    #expect(throws: FloatModelError.self) { try FloatModel(path: "/nonexistent/hybrid-t.safetensors") }
    let msg = FloatModelError.weightsNotFound(path: "Weights/hybrid-t.safetensors").description
    #expect(msg.contains("train/export.py weights"))
}
