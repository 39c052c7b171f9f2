// FloatEntropy: factorized prior for z and the ELIC SCCTX model for y (train/s2c/entropy.py, model.py).
import Foundation
import QuantModel

/// Likelihoods are clamped to at least this (entropy.py LIKELIHOOD_MIN).
public let likelihoodMin: Float = 1e-9

/// torch.round: round half to even.
@inline(__always)
func roundHalfEven(_ x: Float) -> Float { x.rounded(.toNearestOrEven) }

/// F.softplus with PyTorch's defaults (beta 1, linear above threshold 20).
@inline(__always)
func softplus(_ x: Float) -> Float { x > 20 ? x : log1p(exp(x)) }

@inline(__always)
func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

/// P(bin of width 1 around an integer residual v) under N(0, sigma) (entropy.py gaussian_likelihood).
@inline(__always)
func gaussianLikelihood(_ v: Float, _ sigma: Float) -> Float {
    let a = abs(v)
    let d = sigma * Float(2.0.squareRoot())
    let upper = 0.5 * erfc(-(0.5 - a) / d)
    let lower = 0.5 * erfc(-(-0.5 - a) / d)
    return max(upper - lower, likelihoodMin)
}

/// Balle 2018 factorized prior (CompressAI EntropyBottleneck): per-channel CDF sigmoid(f(x)).
public struct FactorizedPrior: Sendable {
    /// Channels.
    public let channels: Int
    /// softplus(matrices[i]) per layer, [C][fout][fin] flattened per layer.
    let softMatrices: [[Float]]
    let biases: [[Float]]
    /// tanh(factors[i]) per hidden layer.
    let tanhFactors: [[Float]]
    /// Widths 1, filters..., 1.
    let widths: [Int]
    /// quantiles[:, 0, 1].
    public let medians: [Float]

    init(_ st: SafeTensorsFile, _ name: String, channels c: Int) throws {
        channels = c
        var w = [1]
        var sm: [[Float]] = [], bs: [[Float]] = [], tf: [[Float]] = []
        var i = 0
        while st.tensors["\(name).matrices.\(i)"] != nil {
            let s = try st.shape("\(name).matrices.\(i)")
            guard s.count == 3, s[0] == c, s[2] == w.last! else {
                throw SafeTensorsError.wrongShape(file: st.file, tensor: "\(name).matrices.\(i)", shape: s,
                                                  expected: [c, -1, w.last!])
            }
            w.append(s[1])
            sm.append(try st.floats("\(name).matrices.\(i)").map(softplus))
            bs.append(try st.floats("\(name).biases.\(i)", expect: [c, s[1], 1]))
            i += 1
        }
        guard i >= 1, w.last == 1 else {
            throw FloatModelError.badConfig(file: st.file, reason: "\(name): factorized prior layers end in width \(w)")
        }
        for j in 0..<(i - 1) {
            tf.append(try st.floats("\(name).factors.\(j)", expect: [c, w[j + 1], 1]).map { tanh($0) })
        }
        widths = w
        softMatrices = sm
        biases = bs
        tanhFactors = tf
        medians = try st.floats("\(name).quantiles", expect: [c, 1, 3]).enumerated()
            .filter { $0.offset % 3 == 1 }.map(\.element)
    }

    /// logits_cumulative for one value of channel `c`.
    func logitsCumulative(_ x: Float, channel c: Int) -> Float {
        var cur: [Float] = [x]
        for l in 0..<softMatrices.count {
            let fin = widths[l], fout = widths[l + 1]
            var nxt = [Float](repeating: 0, count: fout)
            for o in 0..<fout {
                var s: Float = 0
                for i in 0..<fin { s += softMatrices[l][(c * fout + o) * fin + i] * cur[i] }
                nxt[o] = s + biases[l][c * fout + o]
                if l < tanhFactors.count { nxt[o] += tanhFactors[l][c * fout + o] * tanh(nxt[o]) }
            }
            cur = nxt
        }
        return cur[0]
    }

    /// P(bin of width 1 around v) for channel c (entropy.py `likelihood`).
    public func likelihood(_ v: Float, channel c: Int) -> Float {
        let lower = logitsCumulative(v - 0.5, channel: c)
        let upper = logitsCumulative(v + 0.5, channel: c)
        let s = lower + upper
        let sign: Float = s > 0 ? -1 : (s < 0 ? 1 : 0)
        return max(abs(sigmoid(sign * upper) - sigmoid(sign * lower)), likelihoodMin)
    }

    /// round(z - median) + median per channel.
    public func quantize(_ z: FloatTensor) -> FloatTensor {
        var out = z
        for c in 0..<z.channels {
            let m = medians[c]
            for i in (c * z.plane)..<((c + 1) * z.plane) { out.data[i] = roundHalfEven(z.data[i] - m) + m }
        }
        return out
    }

    /// Likelihood of every element of z_hat.
    public func likelihoods(_ zHat: FloatTensor) -> FloatTensor {
        var out = zHat
        for c in 0..<zHat.channels {
            for i in (c * zHat.plane)..<((c + 1) * zHat.plane) { out.data[i] = likelihood(zHat.data[i], channel: c) }
        }
        return out
    }
}

/// What the SCCTX entropy model produces for y' (all shaped like y').
public struct FloatEntropyResult: Sendable {
    /// round(y' - mean) + mean.
    public var yHat: FloatTensor
    /// Per-element likelihoods.
    public var yLik: FloatTensor
    /// Scale before the lower bound, and mean, as used for each element.
    public var scale: FloatTensor, mean: FloatTensor
    /// Group 0 anchor-pass scale and mean at anchors, zero elsewhere (model.py trace).
    public var g0AnchorScale: FloatTensor, g0AnchorMean: FloatTensor
}

/// ELIC SCCTX: channel groups, each in two checkerboard passes (anchors (row + col) even first).
struct SCCTX: Sendable {
    let groups: [Int]
    let scaleMin: Float
    /// cc[k] for k >= 1 (index 0 unused): Conv1x1 -> S2C-Conv blocks -> Conv1x1.
    let cc: [[FloatLayer]]
    /// Checkerboard-masked Conv5x5 (weights stored masked).
    let sc: [Conv2d]
    /// Conv1x1 -> S2C-Identity blocks -> Conv1x1.
    let pa: [[FloatLayer]]

    init(_ st: SafeTensorsFile, cfg: HybridConfig) throws {
        groups = cfg.groups
        scaleMin = Float(cfg.scaleMin)
        let psiC = 2 * cfg.hyper
        var cc: [[FloatLayer]] = [[]], sc: [Conv2d] = [], pa: [[FloatLayer]] = []
        for (k, gk) in cfg.groups.enumerated() {
            if k > 0 {
                var l: [FloatLayer] = [.conv(try Conv2d(st, TensorName.channelContext(k) + TensorName.input, cin: cfg.groups[..<k].reduce(0, +),
                                                        cout: cfg.ccHidden, kernel: 1))]
                for b in 0..<cfg.ccBlocks {
                    l.append(.block(try S2CBlock(st, TensorName.channelContext(k) + TensorName.block(b), c: cfg.ccHidden, kind: "conv", cfg: cfg)))
                }
                l.append(.conv(try Conv2d(st, TensorName.channelContext(k) + TensorName.output, cin: cfg.ccHidden, cout: 2 * gk, kernel: 1)))
                cc.append(l)
            }
            sc.append(try Conv2d(st, TensorName.spatialContext(k), cin: gk, cout: 2 * gk, kernel: 5, padding: 2))
            let cin = 2 * gk + (k > 0 ? 2 * gk : 0) + psiC
            var l: [FloatLayer] = [.conv(try Conv2d(st, TensorName.parameters(k) + TensorName.input, cin: cin, cout: cfg.paHidden, kernel: 1))]
            for b in 0..<cfg.paBlocks {
                l.append(.block(try S2CBlock(st, TensorName.parameters(k) + TensorName.block(b), c: cfg.paHidden, kind: "identity", cfg: cfg)))
            }
            l.append(.conv(try Conv2d(st, TensorName.parameters(k) + TensorName.output, cin: cfg.paHidden, cout: 2 * gk, kernel: 1)))
            pa.append(l)
        }
        self.cc = cc
        self.sc = sc
        self.pa = pa
    }

    /// ParamAggregation on concat(sc, cc, psi): first half of the output = scale, second = mean.
    func groupParams(_ k: Int, sc: FloatTensor, cc: FloatTensor?, psi: FloatTensor,
                     _ observe: FloatObserver?) -> (FloatTensor, FloatTensor) {
        let p = runSequence(pa[k], FloatTensor.concat([sc] + (cc.map { [$0] } ?? []) + [psi]), observe)
        observe?(TensorName.parameters(k), p)
        let g = groups[k]
        return (p.channels(0..<g), p.channels(g..<(2 * g)))
    }

    /// Codes y' in the checkerboard x channel-group order of model.py `entropy_y` (eval mode).
    func run(_ y: FloatTensor, psi: FloatTensor, _ observe: FloatObserver?) -> FloatEntropyResult {
        let h = y.height, w = y.width, p = y.plane
        precondition(y.channels == groups.reduce(0, +), "y has \(y.channels) channels")
        precondition(psi.height == h && psi.width == w, "psi is \(psi.height)x\(psi.width), y is \(h)x\(w)")
        @inline(__always) func isAnchor(_ i: Int) -> Bool { (i / w + i % w) % 2 == 0 }
        var yHats: [FloatTensor] = [], liks: [FloatTensor] = [], scales: [FloatTensor] = [], means: [FloatTensor] = []
        var g0s = FloatTensor(channels: groups[0], height: h, width: w)
        var g0m = g0s
        var start = 0
        for (k, gk) in groups.enumerated() {
            let yk = y.channels(start..<(start + gk))
            start += gk
            var ctx: FloatTensor?
            if k > 0 {
                let c = runSequence(cc[k], FloatTensor.concat(yHats), observe)
                observe?(TensorName.channelContext(k), c)
                ctx = c
            }
            let zeros = FloatTensor(channels: 2 * gk, height: h, width: w)
            let (sA, mA) = groupParams(k, sc: zeros, cc: ctx, psi: psi, observe)
            // Anchors decoded with the anchor-pass mean; non-anchors zero.
            var anchors = FloatTensor(channels: gk, height: h, width: w)
            for c in 0..<gk {
                for i in 0..<p where isAnchor(i) {
                    let j = c * p + i
                    anchors.data[j] = roundHalfEven(yk.data[j] - mA.data[j]) + mA.data[j]
                }
            }
            let scOut = sc[k](anchors, observe)
            let (sN, mN) = groupParams(k, sc: scOut, cc: ctx, psi: psi, observe)
            var scale = sN, mean = mN, yHat = yk, lik = yk
            for c in 0..<gk {
                for i in 0..<p {
                    let j = c * p + i
                    if isAnchor(i) {
                        scale.data[j] = sA.data[j]
                        mean.data[j] = mA.data[j]
                        if k == 0 {
                            g0s.data[j] = sA.data[j]
                            g0m.data[j] = mA.data[j]
                        }
                    }
                    let sigma = max(scale.data[j], scaleMin)
                    let v = roundHalfEven(yk.data[j] - mean.data[j])
                    lik.data[j] = gaussianLikelihood(v, sigma)
                    yHat.data[j] = v + mean.data[j]
                }
            }
            yHats.append(yHat)
            liks.append(lik)
            scales.append(scale)
            means.append(mean)
        }
        return FloatEntropyResult(yHat: .concat(yHats), yLik: .concat(liks), scale: .concat(scales),
                                  mean: .concat(means), g0AnchorScale: g0s, g0AnchorMean: g0m)
    }
}
