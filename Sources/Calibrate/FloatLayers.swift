// FloatLayers: the building blocks of train/s2c/layers.py, loaded by PyTorch name, run in float.
import _COpenBLAS
import Foundation
import QuantModel

/// Nn.Conv2d with bias; `name` is the PyTorch module path ("g_a.0").
public struct Conv2d: Sendable {
    /// Module path; its output is reported under this name.
    public let name: String
    /// [cout, cin / groups, kh, kw], already masked for checkerboard convolutions.
    public let weight: [Float]
    /// [cout].
    public let bias: [Float]
    /// Output channels, input channels, kernel side, stride, zero padding and groups.
    public let cout: Int, cin: Int, kernel: Int, stride: Int, padding: Int, groups: Int

    /// Loads `name.weight` and `name.bias`, checking their shapes.
    public init(_ st: SafeTensorsFile, _ name: String, cin: Int, cout: Int, kernel: Int,
                stride: Int = 1, padding: Int = 0, groups: Int = 1) throws {
        self.name = name
        self.cin = cin
        self.cout = cout
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.groups = groups
        weight = try st.floats(name + ".weight", expect: [cout, cin / groups, kernel, kernel])
        bias = try st.floats(name + ".bias", expect: [cout])
    }

    /// Applies the convolution.
    public func callAsFunction(_ x: FloatTensor, _ observe: FloatObserver? = nil) -> FloatTensor {
        precondition(x.channels == cin, "\(name): input has \(x.channels) channels, expected \(cin)")
        let y = conv2d(x, weight: weight, bias: bias, cout: cout, kh: kernel, kw: kernel,
                       stride: stride, padding: padding, groups: groups)
        observe?(name, y)
        return y
    }
}

/// LayerNorm2d: normalize over channels at each position, biased variance, eps inside the sqrt.
public struct LayerNorm2d: Sendable {
    /// Module path.
    public let name: String
    /// Per-channel scale and shift.
    public let weight: [Float], bias: [Float]
    /// Epsilon.
    public let eps: Float

    init(_ st: SafeTensorsFile, _ name: String, c: Int, eps: Float) throws {
        self.name = name
        self.eps = eps
        weight = try st.floats(name + ".weight", expect: [c])
        bias = try st.floats(name + ".bias", expect: [c])
    }

    /// Applies the normalization.
    public func callAsFunction(_ x: FloatTensor, _ observe: FloatObserver? = nil) -> FloatTensor {
        let c = x.channels, p = x.plane
        var out = FloatTensor(channels: c, height: x.height, width: x.width)
        var mean = [Float](repeating: 0, count: p)
        var rstd = [Float](repeating: 0, count: p)
        x.data.withUnsafeBufferPointer { xp in
            for ch in 0..<c {
                let s = xp.baseAddress! + ch * p
                for i in 0..<p { mean[i] += s[i] }
            }
            let invC = 1 / Float(c)
            for i in 0..<p { mean[i] *= invC }
            for ch in 0..<c {
                let s = xp.baseAddress! + ch * p
                for i in 0..<p {
                    let d = s[i] - mean[i]
                    rstd[i] += d * d
                }
            }
            for i in 0..<p { rstd[i] = 1 / (rstd[i] * invC + eps).squareRoot() }
            out.data.withUnsafeMutableBufferPointer { op in
                for ch in 0..<c {
                    let s = xp.baseAddress! + ch * p
                    let d = op.baseAddress! + ch * p
                    let w = weight[ch], b = bias[ch]
                    for i in 0..<p { d[i] = (s[i] - mean[i]) * rstd[i] * w + b }
                }
            }
        }
        observe?(name, out)
        return out
    }
}

/// GELU over a whole tensor, in place.
func geluInPlace(_ x: inout FloatTensor) {
    x.data.withUnsafeMutableBufferPointer { p in
        if let base = p.baseAddress { geluInPlace(base, count: p.count) }
    }
}

/// S2C-Conv spatial op: pw1 1x1 (C -> eC), GELU, dw kxk (eC), pw2 1x1 (eC -> C).
public struct SepConv: Sendable {
    let name: String
    let pw1: Conv2d, dw: Conv2d, pw2: Conv2d

    init(_ st: SafeTensorsFile, _ name: String, c: Int, cfg: HybridConfig) throws {
        self.name = name
        let h = c * cfg.sepExpansion, k = cfg.dwKernel
        pw1 = try Conv2d(st, name + TensorName.pw1, cin: c, cout: h, kernel: 1)
        dw = try Conv2d(st, name + TensorName.dw, cin: h, cout: h, kernel: k, padding: k / 2, groups: h)
        pw2 = try Conv2d(st, name + TensorName.pw2, cin: h, cout: c, kernel: 1)
    }

    func callAsFunction(_ x: FloatTensor, _ observe: FloatObserver?) -> FloatTensor {
        var a = pw1(x, observe)
        geluInPlace(&a)
        observe?(name + TensorName.gelu, a)
        let y = pw2(dw(a, observe), observe)
        observe?(name, y)
        return y
    }
}

/// Gated-FFN: fc1 1x1 (C -> 2rC) split in a, b; GELU(a) * b; fc2 1x1 (rC -> C).
public struct GatedFFN: Sendable {
    let name: String
    let fc1: Conv2d, fc2: Conv2d

    init(_ st: SafeTensorsFile, _ name: String, c: Int, cfg: HybridConfig) throws {
        self.name = name
        let r = cfg.ffnExpansion
        fc1 = try Conv2d(st, name + TensorName.fc1, cin: c, cout: 2 * r * c, kernel: 1)
        fc2 = try Conv2d(st, name + TensorName.fc2, cin: r * c, cout: c, kernel: 1)
    }

    func callAsFunction(_ x: FloatTensor, _ observe: FloatObserver?) -> FloatTensor {
        var ab = fc1(x, observe)
        let half = ab.channels / 2
        let n = half * ab.plane
        // chunk(2, dim=1): a = first half of the channels, b = second half; both contiguous.
        // h = GELU(a) * b is written over a, then b is dropped (no new buffer).
        ab.data.withUnsafeMutableBufferPointer { s in
            geluInPlace(s.baseAddress!, count: n, times: s.baseAddress! + n)
        }
        ab.data.removeLast(n)
        let h = FloatTensor(channels: half, height: ab.height, width: ab.width, data: ab.data)
        observe?(name + TensorName.gate, h)
        let y = fc2(h, observe)
        observe?(name, y)
        return y
    }
}

/// Window self-attention: w x w windows in raster order, no shift, no position bias,
/// heads = C / head_dim, softmax(Q K^T / sqrt(head_dim)) V, then proj.
public struct WindowAttention: Sendable {
    let name: String
    let c: Int, heads: Int, headDim: Int, window: Int
    /// nn.Linear weights are [out, in]: the same layout as a 1x1 convolution's.
    let qkv: Conv2d, proj: Conv2d

    init(_ st: SafeTensorsFile, _ name: String, c: Int, cfg: HybridConfig) throws {
        self.name = name
        self.c = c
        headDim = cfg.headDim
        heads = c / cfg.headDim
        window = cfg.window
        qkv = try Self.linear(st, name + TensorName.qkv, cin: c, cout: 3 * c)
        proj = try Self.linear(st, name + TensorName.proj, cin: c, cout: c)
    }

    private static func linear(_ st: SafeTensorsFile, _ name: String, cin: Int, cout: Int) throws -> Conv2d {
        // Read as [out, in] and view as a 1x1 convolution.
        let w = try st.floats(name + ".weight", expect: [cout, cin])
        let b = try st.floats(name + ".bias", expect: [cout])
        return Conv2d(name: name, weight: w, bias: b, cin: cin, cout: cout)
    }

    func callAsFunction(_ x: FloatTensor, _ observe: FloatObserver?) -> FloatTensor {
        let h = x.height, w = x.width, ws = window, t = ws * ws, p = x.plane
        precondition(h % ws == 0 && w % ws == 0, "\(name): \(h)x\(w) is not a multiple of the window \(ws)")
        // qkv channel s * C + head * head_dim + d holds (q, k, v)[s], head, dim d.
        let qkvOut = qkv(x, observe)
        var o = FloatTensor(channels: c, height: h, width: w)
        let scale = 1 / Float(headDim).squareRoot()
        // One window at a time as [3C][t] (channel-major: token rows of a window are memcpys),
        // attention per head on it with transposed GEMMs, the result [C][t] copied back.
        var win = [Float](repeating: 0, count: 3 * c * t), out = [Float](repeating: 0, count: c * t)
        var att = [Float](repeating: 0, count: t * t)
        qkvOut.data.withUnsafeBufferPointer { srcBuf in
            o.data.withUnsafeMutableBufferPointer { dstBuf in
                win.withUnsafeMutableBufferPointer { wb in
                    out.withUnsafeMutableBufferPointer { ob in
                        att.withUnsafeMutableBufferPointer { ab in
                            let src = srcBuf.baseAddress!, dst = dstBuf.baseAddress!
                            let wp = wb.baseAddress!, op = ob.baseAddress!, a = ab.baseAddress!
                            for wy in 0..<(h / ws) {
                                for wx in 0..<(w / ws) {
                                    let corner = wy * ws * w + wx * ws
                                    for ch in 0..<(3 * c) {
                                        for ty in 0..<ws {
                                            (wp + ch * t + ty * ws).update(from: src + ch * p + corner + ty * w, count: ws)
                                        }
                                    }
                                    for head in 0..<heads {
                                        let q = wp + head * headDim * t, k = q + c * t, v = k + c * t
                                        // att = scale * Q K^T with Q^T, K^T stored [head_dim][t].
                                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(t), Int32(t),
                                                    Int32(headDim), scale, q, Int32(t), k, Int32(t), 0, a, Int32(t))
                                        for r in 0..<t { softmaxRow(a + r * t, t) }
                                        // (att V)^T = V^T att^T, [head_dim][t].
                                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(headDim), Int32(t),
                                                    Int32(t), 1, v, Int32(t), a, Int32(t), 0, op + head * headDim * t,
                                                    Int32(t))
                                    }
                                    for ch in 0..<c {
                                        for ty in 0..<ws {
                                            (dst + ch * p + corner + ty * w).update(from: op + ch * t + ty * ws, count: ws)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        observe?(name + TensorName.attention, o)
        let y = proj(o, observe)
        observe?(name, y)
        return y
    }
}

extension Conv2d {
    /// A 1x1 convolution from already-loaded tensors (nn.Linear applied per position).
    init(name: String, weight: [Float], bias: [Float], cin: Int, cout: Int) {
        self.name = name
        self.weight = weight
        self.bias = bias
        self.cin = cin
        self.cout = cout
        kernel = 1
        stride = 1
        padding = 0
        groups = 1
    }
}

/// S2C block: x = x + Spatial(LN1(x)); x = x + GatedFFN(LN2(x)). Kind "identity" has no spatial branch.
public struct S2CBlock: Sendable {
    enum Spatial: Sendable {
        case conv(SepConv)
        case attn(WindowAttention)
        case identity
    }

    let name: String
    let norm1: LayerNorm2d?
    let spatial: Spatial
    let norm2: LayerNorm2d
    let ffn: GatedFFN

    init(_ st: SafeTensorsFile, _ name: String, c: Int, kind: String, cfg: HybridConfig) throws {
        self.name = name
        let eps = Float(cfg.lnEps)
        switch kind {
        case "conv":
            norm1 = try LayerNorm2d(st, name + TensorName.norm1, c: c, eps: eps)
            spatial = .conv(try SepConv(st, name + TensorName.spatial, c: c, cfg: cfg))
        case "attn":
            norm1 = try LayerNorm2d(st, name + TensorName.norm1, c: c, eps: eps)
            spatial = .attn(try WindowAttention(st, name + TensorName.spatial, c: c, cfg: cfg))
        case "identity":
            norm1 = nil
            spatial = .identity
        default:
            throw FloatModelError.badConfig(file: st.file, reason: "unknown block kind '\(kind)'")
        }
        norm2 = try LayerNorm2d(st, name + TensorName.norm2, c: c, eps: eps)
        ffn = try GatedFFN(st, name + TensorName.ffn, c: c, cfg: cfg)
    }

    func callAsFunction(_ input: FloatTensor, _ observe: FloatObserver?) -> FloatTensor {
        var x = input
        if let n1 = norm1 {
            let s: FloatTensor
            switch spatial {
            case let .conv(op): s = op(n1(x, observe), observe)
            case let .attn(op): s = op(n1(x, observe), observe)
            case .identity: s = x
            }
            add(&x, s)
            observe?(name + TensorName.mid, x)     // the residual stream between the two halves
        }
        add(&x, ffn(norm2(x, observe), observe))
        observe?(name, x)
        return x
    }
}

/// x += y elementwise.
func add(_ x: inout FloatTensor, _ y: FloatTensor) {
    precondition(x.data.count == y.data.count)
    x.data.withUnsafeMutableBufferPointer { a in
        y.data.withUnsafeBufferPointer { b in
            for i in 0..<a.count { a[i] += b[i] }
        }
    }
}

/// One entry of an nn.Sequential: a convolution, an S2C block, or Up (Conv3x3 + PixelShuffle(2)).
enum FloatLayer: Sendable {
    case conv(Conv2d)
    case block(S2CBlock)
    case up(name: String, conv: Conv2d)

    func callAsFunction(_ x: FloatTensor, _ observe: FloatObserver?) -> FloatTensor {
        switch self {
        case let .conv(c): return c(x, observe)
        case let .block(b): return b(x, observe)
        case let .up(name, c):
            let y = pixelShuffle2(c(x, observe))
            observe?(name, y)
            return y
        }
    }

    /// Every convolution of this layer, in execution order.
    var convolutions: [Conv2d] {
        switch self {
        case let .conv(c), let .up(_, c): return [c]
        case let .block(b):
            var out: [Conv2d] = []
            switch b.spatial {
            case let .conv(op): out += [op.pw1, op.dw, op.pw2]
            case let .attn(op): out += [op.qkv, op.proj]
            case .identity: break
            }
            return out + [b.ffn.fc1, b.ffn.fc2]
        }
    }

    /// Up(a -> b) named `name`: its convolution is `name.0`.
    static func up(_ st: SafeTensorsFile, _ name: String, a: Int, b: Int) throws -> FloatLayer {
        .up(name: name, conv: try Conv2d(st, name + TensorName.upConv, cin: a, cout: 4 * b, kernel: 3, padding: 1))
    }

    /// Conv5x5 stride 2, pad 2.
    static func down(_ st: SafeTensorsFile, _ name: String, a: Int, b: Int) throws -> FloatLayer {
        .conv(try Conv2d(st, name, cin: a, cout: b, kernel: 5, stride: 2, padding: 2))
    }
}

/// Runs layers in order (nn.Sequential).
func runSequence(_ layers: [FloatLayer], _ x: FloatTensor, _ observe: FloatObserver?) -> FloatTensor {
    var y = x
    for l in layers { y = l(y, observe) }
    return y
}
