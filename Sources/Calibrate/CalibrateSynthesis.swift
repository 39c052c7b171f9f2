// CalibrateSynthesis.swift: calibration of the integer g_s (inverse gains, synthesis layers,
// pixel output) from float activations observed on calibration images.
import Foundation
import ImageIO
import QuantModel

/// Metadata every integer model carries (read back by QuantModel.IntConfig).
func writeConfig(_ w: inout ModelFileWriter, _ cfg: HybridConfig, yFracBits: Int) {
    w.set(ModelKey.model, .string(cfg.name))
    w.set(ModelKey.channels, .i32Array(cfg.channels.map { Int32($0) }))
    w.set(ModelKey.depths, .i32Array(cfg.depths.map { Int32($0) }))
    w.set(ModelKey.stageKinds, .i32Array(cfg.stageTypes.map { $0 == "attn" ? 1 : 0 }))
    w.set(ModelKey.latent, .u32(UInt32(cfg.latent)))
    w.set(ModelKey.hyper, .u32(UInt32(cfg.hyper)))
    w.set(ModelKey.groups, .i32Array(cfg.groups.map { Int32($0) }))
    w.set(ModelKey.qualities, .u32(UInt32(cfg.qualities)))
    w.set(ModelKey.yFracBits, .u32(UInt32(yFracBits)))
    w.set(ModelKey.qualitySteps, .u32(UInt32(qualitySteps)))
}

/// Fractional qualities are served on a grid of 1 / qualitySteps (gains interpolated by the
/// float model's own rule, then quantized per row).
let qualitySteps = 8

/// Rows of the gain tables: qualities 1, 1 + 1/8, ..., Q.
func qualityRows(_ cfg: HybridConfig) -> Int { (cfg.qualities - 1) * qualitySteps + 1 }

/// The quality of gain-table row i.
func qualityOfRow(_ i: Int) -> Float { 1 + Float(i) / Float(qualitySteps) }

/// exp_lut[t] = round(2^15 exp(-t / 256)) while it is >= 1 (window attention's softmax).
func expLUT() -> [UInt16] {
    var lut: [UInt16] = []
    var t = 0
    while true {
        let v = (32768 * exp(-Double(t) / 256)).rounded()
        if v < 1 { break }
        lut.append(UInt16(v))
        t += 1
    }
    return lut
}

/// Float reference values the integer decoder is compared with.
public struct SynthesisSample {
    public var quality: Int
    /// The encoder's gained latent y' and the float entropy model's results on it.
    public var yGained: FloatTensor
    public var zHat: FloatTensor
    public var zLik: FloatTensor
    public var entropy: FloatEntropyResult
    public var xHat: FloatTensor
    public var yHat: FloatTensor { entropy.yHat }
}

/// Fraction bits for y_hat' so that headroom x its largest magnitude fits int16.
func yFracBits(_ stats: ActivationStats, headroom: Double) throws -> Int {
    let m = try stats.maxAbs("y_hat") * headroom
    return max(0, min(12, Int(log2(32767 / m).rounded(.down))))
}

/// Writes the integer g_s into `q.writer` (plus the config metadata and the exp table).
public func quantizeSynthesis(_ model: FloatModel, _ q: inout LayerQuantizer) throws {
    let cfg = model.config
    let frac = try yFracBits(q.stats, headroom: q.headroom)
    writeConfig(&q.writer, cfg, yFracBits: frac)
    q.writer.add(TensorName.expLUT, shape: [expLUT().count], uint16: expLUT())
    let qIn = q.inputQmax(model.gS[0])
    let sIn = try q.scale(TensorName.inverseGained, qIn)
    q.tensorScales[TensorName.inverseGained] = sIn
    var mult: [Int32] = [], shift: [Int32] = []
    for row in 0..<qualityRows(cfg) {
        for ig in model.gains(quality: qualityOfRow(row)).invGain {
            let m = FixedMultiplier(Double(ig) * pow(2, -Double(frac)) / sIn)
            mult.append(m.mult)
            shift.append(m.shift)
        }
    }
    q.writer.add(TensorName.inverseGain + TensorName.mult, shape: [qualityRows(cfg), cfg.latent], int32: mult)
    q.writer.add(TensorName.inverseGain + TensorName.shift, shape: [qualityRows(cfg), cfg.latent], int32: shift)
    q.writer.add(TensorName.inverseGain + TensorName.clamp, shape: [1], int32: [Int32(qIn)])
    let sX = try q.sequence(model.gS, sIn: sIn)
    let px = FixedMultiplier(sX * 255)
    q.writer.add(TensorName.pixels + TensorName.mult, shape: [3], int32: Array(repeating: px.mult, count: 3))
    q.writer.add(TensorName.pixels + TensorName.shift, shape: [3], int32: Array(repeating: px.shift, count: 3))
}

/// y_hat' (float, CHW) as the fixed-point HWC tensor the integer decoder holds.
public func fixedPointLatent(_ y: FloatTensor, fracBits: Int) -> IntTensor {
    var t = IntTensor(h: y.height, w: y.width, c: y.channels)
    let one = Double(1 << fracBits)
    for ch in 0..<y.channels {
        for p in 0..<y.plane {
            let v = (Double(y.data[ch * y.plane + p]) * one).rounded()
            t.data[p * y.channels + ch] = Int16(max(-32767, min(32767, v)))
        }
    }
    return t
}

/// Float x_hat (CHW, [0, 1]) as interleaved 8-bit RGB, clamped and rounded.
public func rgbBytes(_ x: FloatTensor) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: x.plane * 3)
    for ch in 0..<3 {
        for p in 0..<x.plane {
            out[p * 3 + ch] = UInt8(max(0, min(255, (Double(x.data[ch * x.plane + p]) * 255).rounded())))
        }
    }
    return out
}

/// PSNR (dB) of the integer g_s's 8-bit output against the float g_s's, per sample.
/// Samples run in parallel (`workers`, 0: one per core); `progress` counts finished samples.
public func compareSynthesis(_ syn: IntSynthesis, _ samples: [SynthesisSample], _ kn: Kernels, workers: Int = 0,
                             progress: @escaping (Int) -> Void = { _ in }) -> [(quality: Int, psnr: Double)] {
    let counter = ProgressCounter(total: samples.count) { done, _ in progress(done) }
    return try! parallelMap(samples.count, workers: workers) { i in
        defer { counter.step() }
        let s = samples[i]
        let yq = fixedPointLatent(s.yHat, fracBits: syn.config.yFracBits)
        return (s.quality, PSNR.compute(syn(yq, quality: syn.config.qualityIndex(level: s.quality), kn), rgbBytes(s.xHat)))
    }
}

/// Writes the whole integer decoder: g_s (quantizeSynthesis), h_s with the integer z_hat, the
/// SCCTX parameter networks with their input rescales and scale thresholds, and the Gaussian and
/// factorized-prior CDF tables.
public func quantizeDecoder(_ model: FloatModel, _ q: inout LayerQuantizer) throws {
    try quantizeSynthesis(model, &q)
    let cfg = model.config
    let frac = try yFracBits(q.stats, headroom: q.headroom)
    let sY = pow(2, -Double(frac))
    q.writer.set(ModelKey.ccBlocks, .u32(UInt32(cfg.ccBlocks)))
    q.writer.set(ModelKey.paBlocks, .u32(UInt32(cfg.paBlocks)))

    // z_hat = s + median in fixed point, within h_s's input bound.
    let qZ = q.inputQmax(model.hS[0])
    let zMax = try q.stats.maxAbs("z_hat") * q.headroom
    let zFrac = max(0, min(14, Int(log2(Double(qZ) / zMax).rounded(.down))))
    let sZ = pow(2, -Double(zFrac))
    q.writer.set(ModelKey.zFracBits, .u32(UInt32(zFrac)))
    q.writer.add(TensorName.zMedian, shape: [cfg.hyper], int32: model.prior.medians.map { Int32((Double($0) / sZ).rounded()) })
    q.writer.add(TensorName.zClamp, shape: [1], int32: [Int32(qZ)])
    let sPsi = try q.sequence(model.hS, sIn: sZ)

    let yMax = try q.stats.maxAbs("y_hat") * q.headroom
    let gaussScales = GaussianTables.scales()
    for (k, gk) in cfg.groups.enumerated() {
        let pa = model.scctx.pa[k]
        let qPa = q.inputQmax(pa[0])
        var parts = [try q.stats.maxAbs("sc.\(k)"), try q.stats.maxAbs("h_s.4")]
        var sCc = 0.0
        if k > 0 {
            let cc = model.scctx.cc[k]
            let qCc = q.inputQmax(cc[0])
            let sCcIn = yMax / Double(qCc)
            let prev = cfg.groups[..<k].reduce(0, +)
            q.rescale(TensorName.channelContext(k) + TensorName.contextInput, sIn: Array(repeating: sY, count: prev), sOut: sCcIn, qmax: qCc)
            sCc = try q.sequence(cc, sIn: sCcIn)
            q.tensorScales["cc.\(k)"] = sCc
            parts.append(try q.stats.maxAbs("cc.\(k)"))
        }
        let qSc = q.inputQmax(model.scctx.sc[k])
        let sScIn = yMax / Double(qSc)
        q.rescale(TensorName.spatialContext(k) + TensorName.contextInput, sIn: Array(repeating: sY, count: gk), sOut: sScIn, qmax: qSc)
        let scConv = model.scctx.sc[k]
        let sSc = try q.scale(scConv.name, LayerQuantizer.full)
        try q.conv(scConv, sIn: sScIn, sOut: Array(repeating: sSc, count: scConv.cout), qmax: LayerQuantizer.full)
        // One input scale for concat(sc, cc, psi).
        let sPaIn = (parts.max() ?? 1) * q.headroom / Double(qPa)
        q.rescale(TensorName.parameters(k) + TensorName.fromSpatial, sIn: Array(repeating: sSc, count: 2 * gk), sOut: sPaIn, qmax: qPa)
        if k > 0 { q.rescale(TensorName.parameters(k) + TensorName.fromContext, sIn: Array(repeating: sCc, count: 2 * gk), sOut: sPaIn, qmax: qPa) }
        q.rescale(TensorName.parameters(k) + TensorName.fromHyper, sIn: Array(repeating: sPsi, count: 2 * cfg.hyper), sOut: sPaIn, qmax: qPa)
        let sScale = try q.scale("pa.\(k).out.scale", LayerQuantizer.full)
        _ = try q.sequence(pa, sIn: sPaIn, lastScales: Array(repeating: sScale, count: gk) + Array(repeating: sY, count: gk))
        q.tensorScales["pa.\(k).scale"] = sScale
        q.tensorScales["pa.\(k).mean"] = sY
        q.writer.add(TensorName.parameters(k) + TensorName.thresholds, shape: [gaussScales.count - 1],
                     int32: GaussianTables.quantizer(scales: gaussScales, unit: sScale).thresholds)
    }
    let gauss = GaussianTables.build(scales: gaussScales)
    q.writer.add(TensorName.gaussianTables + TensorName.cdf, shape: [gauss.cdf.count], int32: gauss.cdf)
    q.writer.add(TensorName.gaussianTables + TensorName.offsets, shape: [gauss.count], int32: gauss.offsets)
    q.writer.add(TensorName.gaussianTables + TensorName.tails, shape: [gauss.count], int32: gauss.tails)
    let z = factorizedTables(model.prior)
    q.writer.add(TensorName.zTables + TensorName.cdf, shape: [z.cdf.count], int32: z.cdf)
    q.writer.add(TensorName.zTables + TensorName.offsets, shape: [z.count], int32: z.offsets)
    q.writer.add(TensorName.zTables + TensorName.tails, shape: [z.count], int32: z.tails)
}

/// One CDF table per z channel over symbols s = round(z - median) in [-tail, tail] (+ escape):
/// tail grows until the float prior leaves less than 1e-9 outside (at most 1024).
func factorizedTables(_ prior: FactorizedPrior) -> CDFTableSet {
    var cdf: [Int32] = [], offsets: [Int32] = [], tails: [Int32] = []
    for c in 0..<prior.channels {
        let med = prior.medians[c]
        func p(_ s: Int) -> Double { Double(prior.likelihood(med + Float(s), channel: c)) }
        var tail = 1
        var mass = p(-1) + p(0) + p(1)
        while mass < 1 - 1e-9 && tail < 1024 {
            tail += 1
            mass += p(-tail) + p(tail)
        }
        var pmf = (-tail...tail).map(p)
        pmf.append(max(0, 1 - pmf.reduce(0, +)))
        offsets.append(Int32(cdf.count))
        tails.append(Int32(tail))
        cdf += GaussianTables.quantize(pmf: pmf)
    }
    return CDFTableSet(cdf: cdf, offsets: offsets, tails: tails)
}
