// LayerReport.swift: per-layer fidelity of the integer g_s: every quantized activation tensor
// compared with the float model's tensor of the same name, as an SQNR in dB.
import Foundation
import QuantModel

/// One row of the per-layer report.
public struct LayerSQNR: Sendable {
    /// Observer name (PyTorch module path, or `<name>.gelu`, `.gate`, `.attn`, `.mid`).
    public var name: String
    /// Bits of the activation tensor (every activation is int16).
    public var activationBits: Int
    /// Bits of the layer's weights when it is a convolution (int8), nil otherwise.
    public var weightBits: Int?
    /// 10 log10(sum float^2 / sum (float - q s)^2).
    public var sqnr: Double
}

/// The per-channel real scales of tensor `name` with `channels` channels: one scale, or the
/// q/k/v or a/b parts of a split output; nil when the quantizer recorded none.
func channelScales(_ scales: [String: Double], _ name: String, channels: Int) -> [Double]? {
    if let s = scales[name] { return Array(repeating: s, count: channels) }
    for parts in [["q", "k", "v"], ["a", "b"]] {
        let ss = parts.compactMap { scales[name + "." + $0] }
        guard ss.count == parts.count, channels % parts.count == 0 else { continue }
        let per = channels / parts.count
        return (0..<channels).map { ss[$0 / per] }
    }
    return nil
}

/// SQNR (dB) of an integer HWC tensor with per-channel scales against a float CHW tensor.
func tensorSQNR(float f: FloatTensor, int t: IntTensor, scales: [Double]) -> Double {
    precondition(f.channels == t.c && f.height == t.h && f.width == t.w && scales.count == t.c)
    var s = 0.0, n = 0.0
    let p = f.plane, c = t.c
    f.data.withUnsafeBufferPointer { fp in
        t.data.withUnsafeBufferPointer { ip in
            for ch in 0..<c {
                let sc = scales[ch]
                for i in 0..<p {
                    let r = Double(fp[ch * p + i])
                    let d = r - Double(ip[i * c + ch]) * sc
                    s += r * r
                    n += d * d
                }
            }
        }
    }
    return n == 0 ? .infinity : 10 * log10(s / n)
}

/// Runs the integer g_s of `file` on the sample's fixed-point y_hat' and the float g_s on its
/// y_hat, and returns, in the float model's order, the SQNR of every tensor both observe and
/// whose real scale is in `scales` (LayerQuantizer.tensorScales).
public func layerSQNR(model: FloatModel, file: ModelFile, scales: [String: Double],
                      sample: SynthesisSample) -> [(name: String, sqnr: Double)] {
    guard let syn = try? IntSynthesis(file) else { return [] }
    var ints: [String: IntTensor] = [:]
    let yq = fixedPointLatent(sample.yHat, fracBits: syn.config.yFracBits)
    _ = syn(yq, quality: syn.config.qualityIndex(level: sample.quality), Kernels.best()) { name, t in ints[name] = t }
    // The float tensors are compared as they appear (not kept): g_s of a large image is big.
    var out: [(name: String, sqnr: Double)] = []
    var seen = Set<String>()
    _ = model.synthesize(yHat: sample.yHat, quality: Float(sample.quality)) { name, f in
        guard !seen.contains(name), let t = ints[name], t.c == f.channels, t.h == f.height, t.w == f.width,
              let sc = channelScales(scales, name, channels: t.c) else { return }
        seen.insert(name)
        out.append((name, tensorSQNR(float: f, int: t, scales: sc)))
    }
    return out
}

/// Weight bits of layer `name` in the integer model: 8 for a convolution (int8 `name.w`).
public func layerWeightBits(_ file: ModelFile, _ name: String) -> Int? {
    (try? file.info(name + ".w", .i8)) != nil ? 8 : nil
}

/// The report rows: layerSQNR with the bits of each tensor.
public func layerReport(model: FloatModel, file: ModelFile, scales: [String: Double],
                        sample: SynthesisSample) -> [LayerSQNR] {
    layerSQNR(model: model, file: file, scales: scales, sample: sample).map {
        LayerSQNR(name: $0.name, activationBits: 16, weightBits: layerWeightBits(file, $0.name), sqnr: $0.sqnr)
    }
}
