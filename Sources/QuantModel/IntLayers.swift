// IntLayers.swift: the integer layers of S2C-Hybrid (convolution, LayerNorm, SepConv,
// Gated-FFN, window attention, S2C block, Up), loaded from a .s2cq file by the PyTorch
// module names, run through the FixedPoint kernels. Embedded Swift subset: no Foundation,
// no existentials, typed throws. Tensor names and parameter layouts: docs/model-format.md.
import FixedPoint

/// Reads the int32 parameter vector `name` and checks its length.
func params(_ f: ModelFile, _ name: String, _ n: Int) throws(ModelFileError) -> [Int32] {
    let p = try f.int32(name)
    guard p.count == n else { throw .malformed("'\(name)' has \(p.count) values, expected \(n)") }
    return p
}

// MARK: - Load-time graph checks
//
// A model file is input like any other: a layer must refuse, when it is loaded, anything that
// would make it trap (a precondition, an index out of range), leave a kernel's documented domain
// (shifts 1...62, clamps inside int16, LayerNorm c <= 1024, attention windows <= 32) or make the
// SIMD and C paths disagree. Each layer checks its own parameters in init; `check(_:)` checks
// that it fits the tensor it will be given, so that a whole network is validated before it runs
// (found by fuzz/harness/modelgraph.swift: a negative depth, mismatched channel counts and
// convolutions that change the size all trapped at run time).

/// Bounds on a model's shapes (docs/model-format.md, "Validation on load").
public enum GraphLimits {
    /// Channels of any tensor.
    public static let maxChannels = 4096
    /// Side of a convolution kernel.
    public static let maxKernel = 15
    /// k * k * cin of a k x k convolution (one patch row): bounds its patch-matrix band.
    public static let maxPatch = 32768
    /// Channels of a LayerNorm (s2c_ops.h: V <= 2^62 needs c <= 1024).
    public static let maxLayerNormChannels = 1024
    /// Blocks in a stage or context network.
    public static let maxBlocks = 64
}

/// What a layer may rely on about its input: the channel count, and a number that both sides
/// are multiples of for every tile (tiles are padded to multiples of 64).
public struct GraphShape: Equatable, Sendable {
    public var c: Int
    public var g: Int

    public init(c: Int, g: Int) {
        self.c = c
        self.g = g
    }
}

/// Refuses a clamp range outside int16 (every kernel's documented domain).
func checkClamp(_ lo: Int32, _ hi: Int32, _ name: String) throws(ModelFileError) {
    guard lo >= -32768, lo <= hi, hi <= 32767 else { throw .malformed("'\(name)' clamps to \(lo)...\(hi), not inside int16") }
}

/// Refuses requantization shifts outside 1...62 and negative multipliers (s2c_fixedpoint.h).
func checkRequant(_ mult: [Int32], _ shift: [Int32], _ name: String) throws(ModelFileError) {
    for m in mult where m < 0 { throw .malformed("'\(name)' has a negative multiplier") }
    for s in shift where s < 1 || s > 62 { throw .malformed("'\(name)' has a shift outside 1...62") }
}

/// Sees a layer's output under the PyTorch module name the float observer uses (conv and
/// norm names, `<sepconv>.gelu`, `<ffn>.gate`, `<attn>.attn`, `<block>.mid`, block and Up names).
/// Tensors are HWC with the layer's integer values; nil (the default) costs one branch per layer.
public typealias IntObserver = (String, IntTensor) -> Void

/// Per-output-channel requantization: bias (int32), multiplier and shift for each channel.
public struct ChannelRequant: Sendable {
    public var bias: [Int32]
    public var mult: [Int32]
    public var shift: [Int32]

    init(_ f: ModelFile, _ name: String, _ n: Int) throws(ModelFileError) {
        bias = try params(f, name + TensorName.bias, n)
        mult = try params(f, name + TensorName.mult, n)
        shift = try params(f, name + TensorName.shift, n)
        for i in 0..<n where mult[i] < 0 || shift[i] < 1 || shift[i] > 62 {
            throw .malformed("'\(name)' channel \(i) has an invalid requantization")
        }
    }
}

/// Convolution k x k (any stride and padding) as im2col + int16 x int8 GEMM (or int8 x int8
/// when the input is int8). Tensors: `N.w` int8 [cout, k, k, cin] (patch order ky, kx, ci),
/// `N.bias/mult/shift` int32 [cout], `N.conv` int32 [stride, pad, lo, hi] or
/// [stride, pad, lo, hi, input bits] (8 or 16; 16 when absent).
public struct IntConv: Sendable {
    public let name: String
    public let cin: Int, cout: Int, k: Int, stride: Int, pad: Int
    /// Bits of the input: 8 runs gemm_s8 on the input narrowed to int8 (its producer clamps to +-127).
    public let inputBits: Int
    let lo: Int32, hi: Int32
    let w: [Int8]
    let rq: ChannelRequant

    public init(_ f: ModelFile, _ name: String) throws(ModelFileError) {
        self.name = name
        let info = try f.info(name + TensorName.weights, .i8)
        guard info.shape.count == 4, info.shape[1] == info.shape[2] else { throw .malformed("'\(name).w' is not [cout, k, k, cin]") }
        cout = info.shape[0]
        k = info.shape[1]
        cin = info.shape[3]
        w = try f.int8(name + TensorName.weights)
        rq = try ChannelRequant(f, name, cout)
        let p = try f.int32(name + TensorName.conv)
        guard p.count == 4 || p.count == 5 else { throw .malformed("'\(name).conv' has \(p.count) values, expected 4 or 5") }
        stride = Int(p[0])
        pad = Int(p[1])
        lo = p[2]
        hi = p[3]
        inputBits = p.count == 5 ? Int(p[4]) : 16
        guard stride >= 1, pad >= 0, pad < k, lo <= hi, lo >= -32768, hi <= 32767, inputBits == 8 || inputBits == 16 else {
            throw .malformed("'\(name).conv' is invalid")
        }
        guard k >= 1, k <= GraphLimits.maxKernel, cin >= 1, cin <= GraphLimits.maxChannels, cout >= 1,
              cout <= GraphLimits.maxChannels, k * k * cin <= GraphLimits.maxPatch else {
            throw .malformed("'\(name).w' has a shape [\(cout), \(k), \(k), \(cin)] outside the limits")
        }
    }

    /// The output of this convolution on `s`: it must take s.c channels and either keep the size
    /// (stride 1, k = 2 pad + 1) or halve it exactly (stride 2, k = 2 pad + 1 or 2 pad + 2, even sides).
    public func check(_ s: GraphShape) throws(ModelFileError) -> GraphShape {
        guard s.c == cin else { throw .malformed("'\(name)' takes \(cin) channels, its input has \(s.c)") }
        if stride == 1 && k == 2 * pad + 1 { return GraphShape(c: cout, g: s.g) }
        if stride == 2 && (k == 2 * pad + 1 || k == 2 * pad + 2) && s.g % 2 == 0 { return GraphShape(c: cout, g: s.g / 2) }
        throw .malformed("'\(name)' (k \(k), stride \(stride), pad \(pad)) neither keeps nor halves its input's size")
    }

    /// `check(_:)` for a convolution that must keep the size.
    func checkSame(_ s: GraphShape) throws(ModelFileError) -> GraphShape {
        let o = try check(s)
        guard o.g == s.g else { throw .malformed("'\(name)' must keep its input's size (stride 1, k = 2 pad + 1)") }
        return o
    }

    public func callAsFunction(_ x: IntTensor, _ kn: Kernels, _ observe: IntObserver? = nil) -> IntTensor {
        precondition(x.c == cin, "\(name): input has \(x.c) channels, expected \(cin)")
        let oh = (x.h + 2 * pad - k) / stride + 1
        let ow = (x.w + 2 * pad - k) / stride + 1
        let kk = k * k * cin
        guard oh > 0 && ow > 0 else { return IntTensor(h: max(oh, 0), w: max(ow, 0), c: cout) }
        var out = IntTensor(h: oh, w: ow, c: cout, overwritten: ())  // every row and channel: one GEMM or bands of rows
        if k == 1 && stride == 1 && pad == 0 {
            x.data.withUnsafeBufferPointer { a in gemm(&out, 0, a.baseAddress!, rows: oh * ow, kk, kn) }
        } else {
            // Patch matrix in bands of output rows: at most kn.bandPixels output pixels at a time.
            let bandRows = max(1, min(oh, kn.bandPixels / ow))
            // im2col writes every value of its rows (padding as zeros)
            var cols = [Int16](unsafeUninitializedCapacity: bandRows * ow * kk) { _, n in n = bandRows * ow * kk }
            var oy0 = 0
            while oy0 < oh {
                let oy1 = min(oh, oy0 + bandRows)
                cols.withUnsafeMutableBufferPointer { c in
                    x.data.withUnsafeBufferPointer { s in
                        s2c_im2col_rows_s16(c.baseAddress, kk, s.baseAddress, Int32(x.h), Int32(x.w), Int32(cin),
                                            Int32(k), Int32(stride), Int32(pad), Int32(oy0), Int32(oy1))
                    }
                }
                cols.withUnsafeBufferPointer { a in gemm(&out, oy0 * ow, a.baseAddress!, rows: (oy1 - oy0) * ow, kk, kn) }
                oy0 = oy1
            }
        }
        observe?(name, out)
        return out
    }

    /// Output rows [row0, row0 + rows) from `rows` patch rows of kk values at `a`.
    func gemm(_ out: inout IntTensor, _ row0: Int, _ a: UnsafePointer<Int16>, rows: Int, _ kk: Int, _ kn: Kernels) {
        // int8 input: the patch rows narrowed (saturating; the producer already clamps to +-127).
        var a8: [Int8] = []
        if inputBits == 8 {
            a8 = [Int8](unsafeUninitializedCapacity: rows * kk) { _, n in n = rows * kk }
            a8.withUnsafeMutableBufferPointer { d in
                for i in 0..<(rows * kk) { d[i] = Int8(clamping: a[i]) }
            }
        }
        out.data.withUnsafeMutableBufferPointer { o in
            w.withUnsafeBufferPointer { wp in
                rq.bias.withUnsafeBufferPointer { b in
                    rq.mult.withUnsafeBufferPointer { m in
                        rq.shift.withUnsafeBufferPointer { s in
                            if inputBits == 8 {
                                a8.withUnsafeBufferPointer { ap in
                                    kn.gemm.gemm_s8(o.baseAddress! + row0 * cout, cout, ap.baseAddress, kk, wp.baseAddress, kk,
                                                    b.baseAddress, m.baseAddress, s.baseAddress,
                                                    Int32(rows), Int32(cout), Int32(kk), lo, hi)
                                }
                            } else {
                                kn.gemm.gemm_s16(o.baseAddress! + row0 * cout, cout, a, kk, wp.baseAddress, kk,
                                                 b.baseAddress, m.baseAddress, s.baseAddress,
                                                 Int32(rows), Int32(cout), Int32(kk), lo, hi)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Depthwise k x k convolution, stride 1, padding k / 2. `N.w` int8 [c, k, k], `N.bias/mult/shift`,
/// `N.conv` [1, k/2, lo, hi].
public struct IntDWConv: Sendable {
    public let name: String
    let c: Int, k: Int, lo: Int32, hi: Int32
    let w: [Int8]
    let rq: ChannelRequant

    public init(_ f: ModelFile, _ name: String) throws(ModelFileError) {
        self.name = name
        let info = try f.info(name + TensorName.weights, .i8)
        guard info.shape.count == 3, info.shape[1] == info.shape[2], info.shape[1] % 2 == 1 else {
            throw .malformed("'\(name).w' is not [c, k, k] with odd k")
        }
        c = info.shape[0]
        k = info.shape[1]
        w = try f.int8(name + TensorName.weights)
        rq = try ChannelRequant(f, name, c)
        let p = try params(f, name + TensorName.conv, 4)
        lo = p[2]
        hi = p[3]
        guard c >= 1, c <= GraphLimits.maxChannels, k <= GraphLimits.maxKernel, p[0] == 1, Int(p[1]) == k / 2 else {
            throw .malformed("'\(name)' is not a depthwise [c, k, k] convolution of stride 1 and padding k / 2 within the limits")
        }
        try checkClamp(lo, hi, name + ".conv")
    }

    func check(_ s: GraphShape) throws(ModelFileError) -> GraphShape {
        guard s.c == c else { throw .malformed("'\(name)' takes \(c) channels, its input has \(s.c)") }
        return s
    }

    public func callAsFunction(_ x: IntTensor, _ kn: Kernels, _ observe: IntObserver? = nil) -> IntTensor {
        precondition(x.c == c, "\(name): input has \(x.c) channels, expected \(c)")
        var out = IntTensor(h: x.h, w: x.w, c: c, overwritten: ())
        out.data.withUnsafeMutableBufferPointer { o in
            x.data.withUnsafeBufferPointer { s in
                w.withUnsafeBufferPointer { wp in
                    rq.bias.withUnsafeBufferPointer { b in
                        rq.mult.withUnsafeBufferPointer { m in
                            rq.shift.withUnsafeBufferPointer { sh in
                                kn.ops.dwconv_s16(o.baseAddress, s.baseAddress, Int32(x.h), Int32(x.w), Int32(c),
                                                  wp.baseAddress, Int32(k), b.baseAddress, m.baseAddress,
                                                  sh.baseAddress, lo, hi)
                            }
                        }
                    }
                }
            }
        }
        observe?(name, out)
        return out
    }
}

/// Integer LayerNorm over channels. `N.g`, `N.b` int32 [c]; `N.ln` int32 [shift, lo, hi,
/// eps_q high 32 bits, eps_q low 32 bits].
public struct IntLayerNorm: Sendable {
    public let name: String
    let g: [Int32], b: [Int32]
    let shift: Int32, lo: Int32, hi: Int32
    let epsQ: UInt64

    public init(_ f: ModelFile, _ name: String) throws(ModelFileError) {
        self.name = name
        g = try f.int32(name + TensorName.normGamma)
        b = try params(f, name + TensorName.normBeta, g.count)
        let p = try params(f, name + TensorName.norm, 5)
        shift = p[0]
        lo = p[1]
        hi = p[2]
        epsQ = UInt64(UInt32(bitPattern: p[3])) << 32 | UInt64(UInt32(bitPattern: p[4]))
        guard shift >= 17, shift <= 62, lo <= hi else { throw .malformed("'\(name).ln' is invalid") }
        guard g.count >= 1, g.count <= GraphLimits.maxLayerNormChannels else {
            throw .malformed("'\(name)' normalizes \(g.count) channels (1...\(GraphLimits.maxLayerNormChannels))")
        }
        try checkClamp(lo, hi, name + ".ln")
    }

    func check(_ s: GraphShape) throws(ModelFileError) -> GraphShape {
        guard s.c == g.count else { throw .malformed("'\(name)' takes \(g.count) channels, its input has \(s.c)") }
        return s
    }

    public func callAsFunction(_ x: IntTensor, _ kn: Kernels, _ observe: IntObserver? = nil) -> IntTensor {
        let out = pixels(x, 0..<(x.h * x.w), kn)
        observe?(name, out)
        return out
    }

    /// The normalized pixels p0..<p1 of x (in pixel order) as a 1 x (p1 - p0) tensor, read in place.
    func pixels(_ x: IntTensor, _ range: Range<Int>, _ kn: Kernels) -> IntTensor {
        precondition(x.c == g.count, "\(name): input has \(x.c) channels, expected \(g.count)")
        precondition(range.lowerBound >= 0 && range.upperBound <= x.h * x.w)
        var out = range.count == x.h * x.w ? IntTensor(h: x.h, w: x.w, c: x.c, overwritten: ())
                                            : IntTensor(h: 1, w: range.count, c: x.c, overwritten: ())
        out.data.withUnsafeMutableBufferPointer { o in
            x.data.withUnsafeBufferPointer { s in
                g.withUnsafeBufferPointer { gp in
                    b.withUnsafeBufferPointer { bp in
                        kn.ops.layernorm_s16(o.baseAddress, x.c, s.baseAddress! + range.lowerBound * x.c, x.c,
                                             Int32(range.count), Int32(x.c), epsQ, gp.baseAddress, bp.baseAddress,
                                             shift, lo, hi)
                    }
                }
            }
        }
        return out
    }
}

/// A 65536-entry activation table over the int16 domain (`N.lut` int16).
public struct IntLUT: Sendable {
    let lut: [Int16]

    public init(_ f: ModelFile, _ name: String) throws(ModelFileError) {
        lut = try f.int16(name + TensorName.lut)
        guard lut.count == 65536 else { throw .malformed("'\(name).lut' must have 65536 entries") }
    }

    public func callAsFunction(_ x: IntTensor, _ kn: Kernels) -> IntTensor {
        var out = IntTensor(h: x.h, w: x.w, c: x.c, overwritten: ())
        out.data.withUnsafeMutableBufferPointer { o in
            x.data.withUnsafeBufferPointer { s in
                lut.withUnsafeBufferPointer { l in kn.ops.lut16_s16(o.baseAddress, s.baseAddress, s.count, l.baseAddress) }
            }
        }
        return out
    }
}

/// S2C-Conv spatial op: pw1, GELU table (`N.gelu.lut`), depthwise, pw2.
public struct IntSepConv: Sendable {
    public let name: String
    let pw1: IntConv, gelu: IntLUT, dw: IntDWConv, pw2: IntConv

    public init(_ f: ModelFile, _ name: String) throws(ModelFileError) {
        self.name = name
        pw1 = try IntConv(f, name + TensorName.pw1)
        gelu = try IntLUT(f, name + TensorName.gelu)
        dw = try IntDWConv(f, name + TensorName.dw)
        pw2 = try IntConv(f, name + TensorName.pw2)
    }

    func check(_ s: GraphShape) throws(ModelFileError) -> GraphShape {
        let o = try pw2.checkSame(try dw.check(try pw1.checkSame(s)))
        guard o == s else { throw .malformed("'\(name)' changes its input's channels") }
        return o
    }

    public func callAsFunction(_ x: IntTensor, _ kn: Kernels, _ observe: IntObserver? = nil) -> IntTensor {
        guard let observe else {
            // pw1 and the GELU table in one kernel (gemm_lut_s16) when pw1 is a plain int16 1x1 convolution
            if pw1.inputBits == 16 && pw1.k == 1 && pw1.stride == 1 && pw1.pad == 0 { return pw2(dw(pw1Gelu(x, kn), kn), kn) }
            return pw2(dw(gelu(pw1(x, kn), kn), kn), kn)
        }
        let a = gelu(pw1(x, kn, observe), kn)
        observe(name + TensorName.gelu, a)
        let y = pw2(dw(a, kn, observe), kn, observe)
        observe(name, y)
        return y
    }
}

extension IntSepConv {
    /// gelu(pw1(x)) by gemm_lut_s16: the same values as the two steps (s2c_fixedpoint.h).
    func pw1Gelu(_ x: IntTensor, _ kn: Kernels) -> IntTensor {
        precondition(x.c == pw1.cin, "\(pw1.name): input has \(x.c) channels, expected \(pw1.cin)")
        var y = IntTensor(h: x.h, w: x.w, c: pw1.cout, overwritten: ())
        y.data.withUnsafeMutableBufferPointer { o in
            x.data.withUnsafeBufferPointer { a in
                pw1.w.withUnsafeBufferPointer { wp in
                    pw1.rq.bias.withUnsafeBufferPointer { b in
                        pw1.rq.mult.withUnsafeBufferPointer { m in
                            pw1.rq.shift.withUnsafeBufferPointer { s in
                                gelu.lut.withUnsafeBufferPointer { l in
                                    kn.gemm.gemm_lut_s16(o.baseAddress, pw1.cout, a.baseAddress, pw1.cin, wp.baseAddress, pw1.cin,
                                                         b.baseAddress, m.baseAddress, s.baseAddress, Int32(x.h * x.w),
                                                         Int32(pw1.cout), Int32(pw1.cin), pw1.lo, pw1.hi, l.baseAddress)
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }
}

/// Gated-FFN: fc1, GELU(a) * b (`N.gate.lut`, `N.gate` int32 [mult, shift, lo, hi]), fc2.
public struct IntGatedFFN: Sendable {
    public let name: String
    let fc1: IntConv, fc2: IntConv
    let lut: IntLUT
    let mult: Int32, shift: Int32, lo: Int32, hi: Int32

    public init(_ f: ModelFile, _ name: String) throws(ModelFileError) {
        self.name = name
        fc1 = try IntConv(f, name + TensorName.fc1)
        fc2 = try IntConv(f, name + TensorName.fc2)
        lut = try IntLUT(f, name + TensorName.gate)
        let p = try params(f, name + TensorName.gate, 4)
        mult = p[0]
        shift = p[1]
        lo = p[2]
        hi = p[3]
        guard fc1.cout == 2 * fc2.cin, mult >= 0, shift >= 1, shift <= 62 else { throw .malformed("'\(name)' is inconsistent") }
        // Per pixel: IntBlock runs it on bands of pixels.
        guard fc1.k == 1, fc2.k == 1 else { throw .malformed("'\(name)' must be pointwise (1x1 convolutions)") }
        try checkClamp(lo, hi, name + ".gate")
    }

    func check(_ s: GraphShape) throws(ModelFileError) -> GraphShape {
        let h = try fc1.checkSame(s)
        let o = try fc2.checkSame(GraphShape(c: h.c / 2, g: h.g))
        guard o == s else { throw .malformed("'\(name)' changes its input's channels") }
        return o
    }

    public func callAsFunction(_ x: IntTensor, _ kn: Kernels, _ observe: IntObserver? = nil) -> IntTensor {
        // fc1 and the gated product in one kernel (fc1's output is never stored), unless fc1 takes
        // int8 inputs or an observer wants to see it.
        if observe == nil && fc1.inputBits == 16 { return fc2(fused(x, kn), kn) }
        let ab = fc1(x, kn, observe)
        let hc = ab.c / 2
        var h = IntTensor(h: ab.h, w: ab.w, c: hc, overwritten: ())
        h.data.withUnsafeMutableBufferPointer { o in
            ab.data.withUnsafeBufferPointer { s in
                lut.lut.withUnsafeBufferPointer { l in
                    kn.ops.gated_s16(o.baseAddress, hc, s.baseAddress, ab.c, Int32(ab.h * ab.w), Int32(hc),
                                     l.baseAddress, mult, shift, lo, hi)
                }
            }
        }
        guard let observe else { return fc2(h, kn) }
        observe(name + TensorName.gate, h)
        let y = fc2(h, kn, observe)
        observe(name, y)
        return y
    }
}

extension IntGatedFFN {
    /// gated(fc1(x)) by gemm_gated_s16: the same values as the two steps (s2c_fixedpoint.h).
    func fused(_ x: IntTensor, _ kn: Kernels) -> IntTensor {
        precondition(x.c == fc1.cin, "\(fc1.name): input has \(x.c) channels, expected \(fc1.cin)")
        let hc = fc1.cout / 2, rows = x.h * x.w
        var h = IntTensor(h: x.h, w: x.w, c: hc, overwritten: ())
        h.data.withUnsafeMutableBufferPointer { o in
            x.data.withUnsafeBufferPointer { a in
                fc1.w.withUnsafeBufferPointer { wp in
                    fc1.rq.bias.withUnsafeBufferPointer { b in
                        fc1.rq.mult.withUnsafeBufferPointer { m in
                            fc1.rq.shift.withUnsafeBufferPointer { s in
                                lut.lut.withUnsafeBufferPointer { l in
                                    kn.gemm.gemm_gated_s16(o.baseAddress, hc, a.baseAddress, fc1.cin, wp.baseAddress, fc1.cin,
                                                           b.baseAddress, m.baseAddress, s.baseAddress, Int32(rows),
                                                           Int32(hc), Int32(fc1.cin), fc1.lo, fc1.hi, l.baseAddress,
                                                           mult, shift, lo, hi)
                                }
                            }
                        }
                    }
                }
            }
        }
        return h
    }
}

/// Window attention: qkv (1x1), integer softmax attention (`N.attn` int32 [heads, window,
/// logit_mult, logit_shift, out_mult, out_shift]; the shared `exp_lut` u16), proj (1x1).
public struct IntAttention: Sendable {
    public let name: String
    let qkv: IntConv, proj: IntConv
    let heads: Int32, window: Int32
    let logitMult: Int32, logitShift: Int32, outMult: Int32, outShift: Int32
    let expLUT: [UInt16]

    public init(_ f: ModelFile, _ name: String, expLUT: [UInt16]) throws(ModelFileError) {
        self.name = name
        qkv = try IntConv(f, name + TensorName.qkv)
        proj = try IntConv(f, name + TensorName.proj)
        let p = try params(f, name + TensorName.attention, 6)
        heads = p[0]
        window = p[1]
        logitMult = p[2]
        logitShift = p[3]
        outMult = p[4]
        outShift = p[5]
        self.expLUT = expLUT
        guard heads >= 1, window >= 1, proj.cin % Int(heads) == 0, qkv.cout == 3 * proj.cin else {
            throw .malformed("'\(name).attn' is inconsistent")
        }
        guard window <= S2C_ATTN_MAX_WIN, logitMult >= 0, outMult >= 0, logitShift >= 1, logitShift <= 62,
              outShift >= 1, outShift <= 62 else {
            throw .malformed("'\(name).attn' is outside the kernel's domain (window 1...\(S2C_ATTN_MAX_WIN), shifts 1...62)")
        }
    }

    func check(_ s: GraphShape) throws(ModelFileError) -> GraphShape {
        let t = try qkv.checkSame(s)
        guard s.g % Int(window) == 0 else {
            throw .malformed("'\(name)' has windows of \(window), which do not divide every input (sides multiples of \(s.g))")
        }
        let o = try proj.checkSame(GraphShape(c: t.c / 3, g: t.g))
        guard o == s else { throw .malformed("'\(name)' changes its input's channels") }
        return o
    }

    public func callAsFunction(_ x: IntTensor, _ kn: Kernels, _ observe: IntObserver? = nil) -> IntTensor {
        precondition(x.h % Int(window) == 0 && x.w % Int(window) == 0,
                     "window attention on \(x.h)x\(x.w): sides must be multiples of \(window)")
        let t = qkv(x, kn, observe)
        let c = proj.cin
        var o = IntTensor(h: x.h, w: x.w, c: c)
        o.data.withUnsafeMutableBufferPointer { op in
            t.data.withUnsafeBufferPointer { tp in
                expLUT.withUnsafeBufferPointer { e in
                    kn.ops.window_attn_s16(op.baseAddress, c, tp.baseAddress, 3 * c, Int32(x.h), Int32(x.w), Int32(c),
                                           heads, window, logitMult, logitShift, e.baseAddress, Int32(e.count),
                                           outMult, outShift)
                }
            }
        }
        guard let observe else { return proj(o, kn) }
        observe(name + TensorName.attention, o)
        let y = proj(o, kn, observe)
        observe(name, y)
        return y
    }
}

/// Residual add with one rounding: `N` int32 [mult_a, mult_b, shift, lo, hi].
public struct IntAdd: Sendable {
    let ma: Int32, mb: Int32, shift: Int32, lo: Int32, hi: Int32

    public init(_ f: ModelFile, _ name: String) throws(ModelFileError) {
        let p = try params(f, name, 5)
        ma = p[0]
        mb = p[1]
        shift = p[2]
        lo = p[3]
        hi = p[4]
        guard shift >= 1, shift <= 62, lo <= hi else { throw .malformed("'\(name)' is invalid") }
        try checkClamp(lo, hi, name)
    }

    /// out[p0 * c ..< p1 * c] = add(a's pixels p0..<p1, b), for b of (p1 - p0) pixels: a band of a
    /// block written in place.
    func band(into out: inout IntTensor, _ a: IntTensor, _ range: Range<Int>, _ b: IntTensor, _ kn: Kernels) {
        let c = a.c, n = range.count * c
        precondition(out.data.count == a.data.count && b.data.count == n && range.upperBound * c <= a.data.count)
        out.data.withUnsafeMutableBufferPointer { o in
            a.data.withUnsafeBufferPointer { ap in
                b.data.withUnsafeBufferPointer { bp in
                    kn.elt.add_requant_s16(o.baseAddress! + range.lowerBound * c, ap.baseAddress! + range.lowerBound * c,
                                           ma, bp.baseAddress, mb, shift, n, lo, hi)
                }
            }
        }
    }

    public func callAsFunction(_ a: IntTensor, _ b: IntTensor, _ kn: Kernels) -> IntTensor {
        precondition(a.data.count == b.data.count)
        var out = IntTensor(h: a.h, w: a.w, c: a.c, overwritten: ())
        band(into: &out, a, 0..<(a.h * a.w), b, kn)
        return out
    }
}

/// S2C block: x1 = add1(x, spatial(norm1(x))); out = add2(x1, ffn(norm2(x1))).
public struct IntBlock: Sendable {
    public enum Spatial: Sendable {
        case conv(IntSepConv)
        case attn(IntAttention)
        case identity
    }

    public let name: String
    let norm1: IntLayerNorm?
    let spatial: Spatial
    let add1: IntAdd?
    let norm2: IntLayerNorm
    let ffn: IntGatedFFN
    let add2: IntAdd

    /// kind: 0 S2C-Conv, 1 S2C-Attention, 2 S2C-Identity.
    public init(_ f: ModelFile, _ name: String, kind: Int, expLUT: [UInt16]) throws(ModelFileError) {
        self.name = name
        switch kind {
        case 0:
            norm1 = try IntLayerNorm(f, name + TensorName.norm1)
            spatial = .conv(try IntSepConv(f, name + TensorName.spatial))
            add1 = try IntAdd(f, name + TensorName.add1)
        case 1:
            norm1 = try IntLayerNorm(f, name + TensorName.norm1)
            spatial = .attn(try IntAttention(f, name + TensorName.spatial, expLUT: expLUT))
            add1 = try IntAdd(f, name + TensorName.add1)
        default:
            norm1 = nil
            spatial = .identity
            add1 = nil
        }
        norm2 = try IntLayerNorm(f, name + TensorName.norm2)
        ffn = try IntGatedFFN(f, name + TensorName.ffn)
        add2 = try IntAdd(f, name + TensorName.add2)
    }

    /// Checks the whole block on `s` (it keeps channels and size).
    public func check(_ s: GraphShape) throws(ModelFileError) -> GraphShape {
        if let n1 = norm1 {
            let n = try n1.check(s)
            switch spatial {
            case .conv(let op): _ = try op.check(n)
            case .attn(let op): _ = try op.check(n)
            case .identity: break
            }
        }
        return try ffn.check(try norm2.check(s))
    }

    public func callAsFunction(_ input: IntTensor, _ kn: Kernels, _ observe: IntObserver? = nil) -> IntTensor {
        var x = input
        if let n1 = norm1, let a1 = add1 {
            switch spatial {
            case .conv(let op): x = a1(x, op(n1(x, kn, observe), kn, observe), kn)
            case .attn(let op): x = a1(x, op(n1(x, kn, observe), kn, observe), kn)
            case .identity: break
            }
            observe?(name + TensorName.mid, x)
        }
        if let observe {
            let y = add2(x, ffn(norm2(x, kn, observe), kn, observe), kn)
            observe(name, y)
            return y
        }
        // The FFN half is per pixel: run it on bands of pixels (same values, bounded memory:
        // fc1's output is 2 x expansion x c wide), reading x and writing y in place.
        let n = x.h * x.w
        if n <= kn.bandPixels { return add2(x, ffn(norm2(x, kn), kn), kn) }
        var y = IntTensor(h: x.h, w: x.w, c: x.c, overwritten: ())
        var p0 = 0
        while p0 < n {
            let p1 = min(n, p0 + kn.bandPixels)
            add2.band(into: &y, x, p0..<p1, ffn(norm2.pixels(x, p0..<p1, kn), kn), kn)
            p0 = p1
        }
        return y
    }
}

/// One entry of a sequence: a convolution, a block, or Up (conv then PixelShuffle(2)).
public enum IntLayer: Sendable {
    case conv(IntConv)
    case block(IntBlock)
    case up(IntConv)

    /// Whether each output position depends on the same input position only (a 1x1 convolution
    /// or a block without a spatial op), so the layer can run on any subset of positions.
    var perPosition: Bool {
        switch self {
        case .conv(let c): return c.k == 1 && c.stride == 1 && c.pad == 0
        case .block(let b):
            if case .identity = b.spatial { return true }
            return false
        case .up: return false
        }
    }

    /// Observed names: the convolution's, and for Up its module name (the convolution's
    /// name without the trailing ".0") for the pixel-shuffled output.
    public func callAsFunction(_ x: IntTensor, _ kn: Kernels, _ observe: IntObserver? = nil) -> IntTensor {
        switch self {
        case .conv(let c): return c(x, kn, observe)
        case .block(let b): return b(x, kn, observe)
        case .up(let c):
            let y = c(x, kn, observe)
            var out = IntTensor(h: 2 * y.h, w: 2 * y.w, c: y.c / 4, overwritten: ())
            out.data.withUnsafeMutableBufferPointer { o in
                y.data.withUnsafeBufferPointer { s in
                    s2c_pixel_shuffle_s16(o.baseAddress, s.baseAddress, Int32(y.h), Int32(y.w), Int32(y.c / 4))
                }
            }
            if let observe {
                observe(c.name.hasSuffix(TensorName.upConv) ? String(c.name.dropLast(TensorName.upConv.count)) : c.name, out)
            }
            return out
        }
    }
}

extension IntLayer {
    /// The output of this layer on `s` (Up: a size-keeping convolution to 4c channels, then
    /// PixelShuffle(2)).
    public func check(_ s: GraphShape) throws(ModelFileError) -> GraphShape {
        switch self {
        case .conv(let c): return try c.check(s)
        case .block(let b): return try b.check(s)
        case .up(let c):
            let o = try c.checkSame(s)
            guard o.c % 4 == 0 else { throw .malformed("'\(c.name)' feeds PixelShuffle(2) with \(o.c) channels (not a multiple of 4)") }
            return GraphShape(c: o.c / 4, g: 2 * o.g)
        }
    }
}

/// Checks a sequence of layers on its input; returns the shape of its output.
public func checkSequence(_ layers: [IntLayer], _ input: GraphShape) throws(ModelFileError) -> GraphShape {
    var s = input
    for l in layers { s = try l.check(s) }
    return s
}

/// Runs layers in order, reporting each layer's outputs to `observe` when given.
public func runSequence(_ layers: [IntLayer], _ x: IntTensor, _ kn: Kernels, _ observe: IntObserver? = nil) -> IntTensor {
    var y = x
    for l in layers { y = l(y, kn, observe) }
    return y
}
