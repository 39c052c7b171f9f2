// LayerReport.swift: per-layer fidelity of the integer networks (g_s, h_s, the SCCTX context and
// parameter networks, g_a): every quantized activation tensor compared with the float model's
// tensor of the same name, as an SQNR in dB.
import Foundation
import QuantModel

/// One row of the per-layer report.
public struct LayerSQNR: Sendable {
    /// Observer name (PyTorch module path, or `<name>.gelu`, `.gate`, `.attn`, `.mid`).
    public var name: String
    /// Bits of the activation tensor (16, or 8 where the calibrator chose int8 GEMM inputs).
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
    for parts in [["q", "k", "v"], ["a", "b"], ["scale", "mean"]] {
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

/// Runs an integer network (collecting the first output seen under each name), then its float
/// counterpart, and returns, in the float model's order, the SQNR of every tensor both observe
/// (first occurrence) whose real scale is in `scales`.
func compareObserved(scales: [String: Double], int runInt: (@escaping IntObserver) -> Void,
                     float runFloat: (@escaping FloatObserver) -> Void) -> [(name: String, sqnr: Double)] {
    var ints: [String: IntTensor] = [:]
    runInt { name, t in if ints[name] == nil { ints[name] = t } }
    // The float tensors are compared as they appear (not kept): g_s of a large image is big.
    var out: [(name: String, sqnr: Double)] = []
    var seen = Set<String>()
    runFloat { name, f in
        guard !seen.contains(name), let t = ints[name], t.c == f.channels, t.h == f.height, t.w == f.width,
              let sc = channelScales(scales, name, channels: t.c) else { return }
        seen.insert(name)
        out.append((name, tensorSQNR(float: f, int: t, scales: sc)))
    }
    return out
}

/// Runs the integer g_s of `file` on the sample's fixed-point y_hat' and the float g_s on its
/// y_hat, and returns, in the float model's order, the SQNR of every tensor both observe and
/// whose real scale is in `scales` (LayerQuantizer.tensorScales).
public func layerSQNR(model: FloatModel, file: ModelFile, scales: [String: Double],
                      sample: SynthesisSample) -> [(name: String, sqnr: Double)] {
    guard let syn = try? IntSynthesis(file) else { return [] }
    let yq = fixedPointLatent(sample.yHat, fracBits: syn.config.yFracBits)
    return compareObserved(scales: scales, int: { obs in
        _ = syn(yq, quality: syn.config.qualityIndex(level: sample.quality), Kernels.best(), observe: obs)
    }, float: { obs in
        _ = model.synthesize(yHat: sample.yHat, quality: Float(sample.quality), observe: obs)
    })
}

/// Decoder side that takes the float model's symbols (CHW order), so the integer networks see
/// y_hat' = float symbol + integer mean: the report then measures their quantization, not the
/// few symbols that round the other way (symbol agreement is measured by compareDecoder).
struct ForcedCoder: SymbolCoder {
    let symbols: [Int32]
    let plane: Int

    mutating func symbol(channel: Int, position: Int, mean: Int32, table: Int) -> Int32 {
        symbols[channel * plane + position]
    }
}

/// The entropy side of the decoder: h_s on the sample's z_hat and the SCCTX networks (context
/// cc.k, spatial sc.k, parameters pa.k, anchors pass first) on its y', integer against float.
/// The integer networks decode the float model's symbols (ForcedCoder) with their own means.
public func entropyLayerSQNR(model: FloatModel, file: ModelFile, scales: [String: Double],
                             sample s: SynthesisSample) -> [(name: String, sqnr: Double)] {
    guard let cfg = try? IntConfig(file), let hs = try? IntHyperSynthesis(file, cfg),
          let em = try? IntEntropyModel(file, cfg) else { return [] }
    let zs = s.zSymbols(model.prior.medians)
    let kn = Kernels.best()
    return compareObserved(scales: scales, int: { obs in
        let psi = hs(symbols: zs, kn, observe: obs)
        var dec = ForcedCoder(symbols: s.ySymbols, plane: s.entropy.yHat.plane)
        _ = em.run(psi: psi, coder: &dec, kn, observe: obs)
    }, float: { obs in
        let psi = model.hyperSynthesis(s.zHat, observe: obs)
        _ = model.entropyModel(yGained: s.yGained, psi: psi, observe: obs)
    })
}

/// The encoder's g_a on one image (8-bit pixels, padded like the codec pads), integer against float.
public func analysisLayerSQNR(model: FloatModel, file: ModelFile, scales: [String: Double],
                              image: FloatTensor) -> [(name: String, sqnr: Double)] {
    guard let cfg = try? IntConfig(file), let ga = try? IntAnalysis(file, cfg) else { return [] }
    let x = image.paddedReplicate(multiple: model.config.padMultiple)
    let px = rgbBytes(x)
    let x8 = FloatTensor(rgb8: px, width: x.width, height: x.height)
    return compareObserved(scales: scales, int: { obs in
        _ = ga.y(pixels: px, h: x.height, w: x.width, Kernels.best(), observe: obs)
    }, float: { obs in
        _ = model.analysis(x8, observe: obs)
    })
}

/// Weight bits of layer `name` in the integer model: 8 for a convolution (int8 `name.w`).
public func layerWeightBits(_ file: ModelFile, _ name: String) -> Int? {
    (try? file.info(name + ".w", .i8)) != nil ? 8 : nil
}

/// The report rows of g_s: layerSQNR with the bits of each tensor (`int8`: the tensors held in
/// int8, LayerQuantizer.int8Tensors).
public func layerReport(model: FloatModel, file: ModelFile, scales: [String: Double],
                        sample: SynthesisSample, int8: Set<String> = []) -> [LayerSQNR] {
    rows(file, layerSQNR(model: model, file: file, scales: scales, sample: sample), int8: int8)
}

/// The report rows of h_s and the SCCTX networks.
public func entropyLayerReport(model: FloatModel, file: ModelFile, scales: [String: Double],
                               sample: SynthesisSample) -> [LayerSQNR] {
    rows(file, entropyLayerSQNR(model: model, file: file, scales: scales, sample: sample))
}

/// The report rows of g_a.
public func analysisLayerReport(model: FloatModel, file: ModelFile, scales: [String: Double],
                                image: FloatTensor) -> [LayerSQNR] {
    rows(file, analysisLayerSQNR(model: model, file: file, scales: scales, image: image))
}

func rows(_ file: ModelFile, _ r: [(name: String, sqnr: Double)], int8: Set<String> = []) -> [LayerSQNR] {
    r.map { LayerSQNR(name: $0.name, activationBits: int8.contains($0.name) ? 8 : 16,
                      weightBits: layerWeightBits(file, $0.name), sqnr: $0.sqnr) }
}
