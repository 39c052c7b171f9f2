// FloatModel: the whole S2C-Hybrid network in float, computing what HybridModel.forward computes in eval mode.
import Foundation
import QuantModel

/// Everything the encoder side computes for one image (tensors at the padded size).
public struct FloatEncoding: Sendable {
    /// Input size before padding.
    public var height: Int, width: Int
    /// The replicate-padded input.
    public var x: FloatTensor
    /// g_a(x), and y' = y * gain(q).
    public var y: FloatTensor, yGained: FloatTensor
    /// h_a(y'), its quantized value and likelihoods.
    public var z: FloatTensor, zHat: FloatTensor, zLik: FloatTensor
    /// h_s(z_hat): the hyperprior features (2N channels).
    public var psi: FloatTensor
    /// SCCTX output: y_hat', likelihoods, scale, mean, group-0 anchor trace.
    public var entropy: FloatEntropyResult

    /// y_hat' (gained domain), what the decoder reconstructs.
    public var yHat: FloatTensor { entropy.yHat }
    /// Per-element likelihoods of y'.
    public var yLik: FloatTensor { entropy.yLik }
    /// Estimated size from the likelihoods, in bits (y and z).
    public var estimatedBits: Double { FloatModel.bits(yLik) + FloatModel.bits(zLik) }
    /// Estimated bits per pixel of the unpadded image.
    public var bitsPerPixel: Double { estimatedBits / Double(height * width) }
}

/// Encoder output plus the reconstruction, cropped to the input size.
public struct FloatForward: Sendable {
    /// Everything from `encode`.
    public var encoding: FloatEncoding
    /// g_s(y_hat' * inv_gain(q)) cropped to the input size (not clamped).
    public var xHat: FloatTensor
}

/// The float reference runtime: weights by PyTorch name, sizes from the config in the metadata.
public struct FloatModel: Sendable {
    /// The model config from the weights' "config" metadata.
    public let config: HybridConfig
    /// The weights file, for the calibrator to read further tensors from.
    public let weights: SafeTensorsFile
    let gA: [FloatLayer], gS: [FloatLayer], hA: [FloatLayer], hS: [FloatLayer]
    /// The factorized prior of z.
    public let prior: FactorizedPrior
    let scctx: SCCTX
    /// log_gain and log_inv_gain, [Q][M].
    public let logGain: [[Float]], logInvGain: [[Float]]

    /// Loads `path` (a safetensors file from train/export.py).
    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw FloatModelError.weightsNotFound(path: path) }
        try self.init(weights: try SafeTensorsFile(path: path))
    }

    /// Builds the model from an already-parsed weights file.
    public init(weights st: SafeTensorsFile) throws {
        guard let json = st.metadata["config"] else {
            throw FloatModelError.badConfig(file: st.file, reason: "no 'config' metadata: not an s2c weights file")
        }
        let cfg = try HybridConfig.fromJSON(json, file: st.file)
        config = cfg
        weights = st
        let c = cfg.channels, l = cfg.depths, t = cfg.stageTypes, m = cfg.latent, n = cfg.hyper
        func stage(_ prefix: String, _ ch: Int, _ depth: Int, _ kind: String) throws -> [FloatLayer] {
            try (0..<depth).map { .block(try S2CBlock(st, prefix + TensorName.child($0), c: ch, kind: kind, cfg: cfg)) }
        }
        let ga = TensorName.analysis, gs = TensorName.synthesis, ha = TensorName.hyperAnalysis
        let hs = TensorName.hyperSynthesis
        gA = try [.down(st, ga(0), a: 3, b: c[0])] + stage(ga(1), c[0], l[0], t[0])
            + [.down(st, ga(2), a: c[0], b: c[1])] + stage(ga(3), c[1], l[1], t[1])
            + [.down(st, ga(4), a: c[1], b: c[2])] + stage(ga(5), c[2], l[2], t[2])
            + [.down(st, ga(6), a: c[2], b: m)]
        gS = try [.up(st, gs(0), a: m, b: c[2])] + stage(gs(1), c[2], l[2], t[2])
            + [.up(st, gs(2), a: c[2], b: c[1])] + stage(gs(3), c[1], l[1], t[1])
            + [.up(st, gs(4), a: c[1], b: c[0])] + stage(gs(5), c[0], l[0], t[0])
            + [.up(st, gs(6), a: c[0], b: 3)]
        hA = [.conv(try Conv2d(st, ha(0), cin: m, cout: n, kernel: 3, padding: 1)),
              .block(try S2CBlock(st, ha(1), c: n, kind: "conv", cfg: cfg)),
              try .down(st, ha(2), a: n, b: n),
              .block(try S2CBlock(st, ha(3), c: n, kind: "conv", cfg: cfg)),
              try .down(st, ha(4), a: n, b: n)]
        hS = [try .up(st, hs(0), a: n, b: n),
              .block(try S2CBlock(st, hs(1), c: n, kind: "conv", cfg: cfg)),
              try .up(st, hs(2), a: n, b: n),
              .block(try S2CBlock(st, hs(3), c: n, kind: "conv", cfg: cfg)),
              .conv(try Conv2d(st, hs(4), cin: n, cout: 2 * n, kernel: 3, padding: 1))]
        prior = try FactorizedPrior(st, "entropy_bottleneck", channels: n)
        scctx = try SCCTX(st, cfg: cfg)
        let q = cfg.qualities
        let lg = try st.floats("log_gain", expect: [q, m])
        let lig = try st.floats("log_inv_gain", expect: [q, m])
        logGain = (0..<q).map { Array(lg[($0 * m)..<(($0 + 1) * m)]) }
        logInvGain = (0..<q).map { Array(lig[($0 * m)..<(($0 + 1) * m)]) }
    }

    /// Every convolution of the network (g_a, h_a, h_s, the SCCTX networks, g_s).
    var convolutions: [Conv2d] {
        var layers = gA + hA + hS
        for k in scctx.groups.indices { layers += scctx.cc[k] + scctx.pa[k] }
        layers += gS
        return layers.flatMap(\.convolutions) + scctx.sc
    }

    // MARK: - Rate control

    /// Gain and inverse gain for quality q: q clamped to [1, Q], logs interpolated linearly
    /// between neighbouring levels (geometric in the gains), as model.py `gains`.
    public func gains(quality: Float) -> (gain: [Float], invGain: [Float]) {
        let nq = config.qualities
        let qq = min(max(quality, 1), Float(nq)) - 1
        let lo = min(Int(qq.rounded(.down)), nq - 2)
        let t = qq - Float(lo)
        func mix(_ a: [Float], _ b: [Float]) -> [Float] { zip(a, b).map { exp((1 - t) * $0 + t * $1) } }
        return (mix(logGain[lo], logGain[lo + 1]), mix(logInvGain[lo], logInvGain[lo + 1]))
    }

    static func scaled(_ x: FloatTensor, _ g: [Float]) -> FloatTensor {
        precondition(g.count == x.channels)
        var out = x
        for c in 0..<x.channels {
            for i in (c * x.plane)..<((c + 1) * x.plane) { out.data[i] *= g[c] }
        }
        return out
    }

    // MARK: - Transforms

    /// g_a: padded image (sides multiple of 64) -> y.
    public func analysis(_ x: FloatTensor, observe: FloatObserver? = nil) -> FloatTensor {
        runSequence(gA, x, observe)
    }

    /// g_s: y (already multiplied by the inverse gain) -> x_hat at the padded size.
    public func synthesis(_ y: FloatTensor, observe: FloatObserver? = nil) -> FloatTensor {
        runSequence(gS, y, observe)
    }

    /// h_a: y' -> z.
    public func hyperAnalysis(_ y: FloatTensor, observe: FloatObserver? = nil) -> FloatTensor {
        runSequence(hA, y, observe)
    }

    /// h_s: z_hat -> psi.
    public func hyperSynthesis(_ zHat: FloatTensor, observe: FloatObserver? = nil) -> FloatTensor {
        runSequence(hS, zHat, observe)
    }

    /// The SCCTX entropy model on y' given psi: y_hat', likelihoods, scale and mean.
    public func entropyModel(yGained: FloatTensor, psi: FloatTensor,
                             observe: FloatObserver? = nil) -> FloatEntropyResult {
        scctx.run(yGained, psi: psi, observe)
    }

    // MARK: - Whole model

    /// Encoder side of `HybridModel.forward` (eval): pads `image` (3 channels in [0, 1]) to a
    /// multiple of 64 by edge replication and runs g_a, gains, h_a, the prior, h_s and SCCTX.
    public func encode(image: FloatTensor, quality: Float, observe: FloatObserver? = nil) throws -> FloatEncoding {
        guard image.channels == 3, image.height > 0, image.width > 0 else {
            throw FloatModelError.badInput(reason: "expected a 3-channel image, got \(image.shape)")
        }
        let x = image.paddedReplicate(multiple: config.padMultiple)
        let y = analysis(x, observe: observe)
        let yg = Self.scaled(y, gains(quality: quality).gain)
        observe?("y_gained", yg)
        let z = hyperAnalysis(yg, observe: observe)
        let zHat = prior.quantize(z)
        observe?("z_hat", zHat)
        let zLik = prior.likelihoods(zHat)
        let psi = hyperSynthesis(zHat, observe: observe)
        let ent = entropyModel(yGained: yg, psi: psi, observe: observe)
        return FloatEncoding(height: image.height, width: image.width, x: x, y: y, yGained: yg, z: z, zHat: zHat,
                             zLik: zLik, psi: psi, entropy: ent)
    }

    /// Decoder side: x_hat = g_s(y_hat' * inv_gain(q)), at y_hat's padded size (16 x its sides).
    public func synthesize(yHat: FloatTensor, quality: Float, observe: FloatObserver? = nil) -> FloatTensor {
        let yIn = Self.scaled(yHat, gains(quality: quality).invGain)
        observe?(TensorName.inverseGained, yIn)
        return synthesis(yIn, observe: observe)
    }

    /// `HybridModel.forward` in eval mode on any size: pad, encode, decode, crop.
    public func forward(x: FloatTensor, quality: Float, observe: FloatObserver? = nil) throws -> FloatForward {
        let enc = try encode(image: x, quality: quality, observe: observe)
        let xHat = synthesize(yHat: enc.yHat, quality: quality, observe: observe)
        return FloatForward(encoding: enc, xHat: xHat.cropped(height: x.height, width: x.width))
    }

    // MARK: - Measures

    /// -sum log2(likelihood), in double.
    public static func bits(_ lik: FloatTensor) -> Double {
        lik.data.reduce(0) { $0 - log2(Double($1)) }
    }
}
