// Int8Selection.swift: which GEMMs of g_s take int8 inputs (gemm_s8, faster) instead of int16,
// chosen by measured end-to-end sensitivity under a fidelity budget (docs/integer-design.md).
import Foundation
import ImageIO
import QuantModel

/// The g_s convolutions whose input may be int8: those fed by a producer that can clamp to
/// +-127 (LayerNorm -> pw1 / qkv / fc1, depthwise -> pw2, gate -> fc2, block output -> the next
/// convolution). Not proj (the attention kernel does not clamp) and not the first layer (its
/// input is the inverse-gained latent).
func int8Candidates(_ layers: [FloatLayer]) -> [String] {
    var out: [String] = []
    for (i, l) in layers.enumerated() {
        switch l {
        case .conv(let c), .up(_, let c):
            if i > 0 { out.append(c.name) }
        case .block(let b):
            if b.norm1 != nil {
                switch b.spatial {
                case .conv(let op): out += [op.pw1.name, op.pw2.name]
                case .attn(let op): out.append(op.qkv.name)
                case .identity: break
                }
            }
            out += [b.ffn.fc1.name, b.ffn.fc2.name]
        }
    }
    return out
}

/// One g_s latent and the float model's 8-bit output for it.
struct SelectionSample {
    var quality: Int
    var yHat: FloatTensor
    var reference: [UInt8]
}

/// The result of chooseInt8Inputs.
public struct Int8Choice: Sendable {
    /// Chosen convolutions, cheapest first.
    public var chosen: [String]
    /// Every candidate alone: the rise of g_s's output MSE (8-bit units^2) against float.
    public var cost: [(name: String, mse: Double)]
    /// g_s PSNR against float with int16 everywhere, and with the chosen set (mean MSE -> dB).
    public var basePSNR: Double
    public var chosenPSNR: Double
}

/// Greedy choice: quantize g_s with each candidate alone in int8, measure the rise of the
/// integer g_s output's MSE against the float output on the samples (centre 16 x 16 latents),
/// then take candidates from the cheapest while the summed rises keep the PSNR loss within
/// `budgetDB`; the chosen set is measured again as a whole.
public func chooseInt8Inputs(_ model: FloatModel, stats: ActivationStats, samples: [SynthesisSample],
                             budgetDB: Double, weights: WeightCache = WeightCache(),
                             progress: (Int, Int) -> Void = { _, _ in }) throws -> Int8Choice {
    precondition(budgetDB >= 0)
    // The float references with the observation's single-threaded BLAS (the same rounding on any machine).
    let sel = withSingleThreadedBLAS {
        samples.map { s -> SelectionSample in
            let y = s.yHat.centreCrop(side: 16)
            return SelectionSample(quality: s.quality, yHat: y,
                                   reference: rgbBytes(model.synthesize(yHat: y, quality: Float(s.quality))))
        }
    }
    func mse(_ set: Set<String>) throws -> Double {
        var q = LayerQuantizer(stats: stats, writer: ModelFileWriter(), weights: weights)
        q.int8Inputs = set
        try quantizeSynthesis(model, &q)
        let syn = try IntSynthesis(try ModelFile(bytes: q.writer.serialize()))
        let kn = Kernels.best()
        var total = 0.0
        for s in sel {
            let yq = fixedPointLatent(s.yHat, fracBits: syn.config.yFracBits)
            let out = syn(yq, quality: syn.config.qualityIndex(level: s.quality), kn)
            var se = 0.0
            for i in 0..<out.count {
                let d = Double(out[i]) - Double(s.reference[i])
                se += d * d
            }
            total += se / Double(out.count)
        }
        return total / Double(max(sel.count, 1))
    }
    let candidates = int8Candidates(model.gS)
    let base = try mse([])
    var cost: [(name: String, mse: Double)] = []
    for (i, c) in candidates.enumerated() {
        cost.append((c, max(0, try mse([c]) - base)))
        progress(i + 1, candidates.count)
    }
    // A zero base (integer equal to float on these samples) still allows the budget's worth
    // of error at the PSNR cap of 99 dB: effectively nothing.
    let allowed = max(base, 255 * 255 * pow(10, -9.9)) * (pow(10, budgetDB / 10) - 1)
    var chosen: [String] = []
    var spent = 0.0
    for c in cost.sorted(by: { $0.mse < $1.mse }) where spent + c.mse <= allowed {
        chosen.append(c.name)
        spent += c.mse
    }
    let final = chosen.isEmpty ? base : try mse(Set(chosen))
    return Int8Choice(chosen: chosen, cost: cost, basePSNR: PSNR.fromMSE(base), chosenPSNR: PSNR.fromMSE(final))
}
