// QuantizeLayers.swift: turns float layers plus observed activation ranges into the integer
// layers' tensors (QuantModel/IntLayers.swift reads them back by the same names).
//
// Scale rules (docs/integer-design.md): weights int8 per output channel; every activation an
// int16 tensor with one real scale s (real = q * s), clipped at `headroom` x the calibration
// maximum; tensors that feed a GEMM are limited to qmax = 2^30 / max_n sum_k |W_q[n, k]| so the
// int32 accumulator can never overflow; q and k of attention to 4095 (the kernel's bound).
import Foundation
import QuantModel

/// Activation statistics keyed by observer name, with the split views the integer graph needs.
/// Independent of the order of `record` and `merge` calls (RangeObserver), so images can be
/// observed in parallel.
public struct ActivationStats: Sendable, Equatable {
    public var ranges: [String: RangeObserver] = [:]
    /// Tensors whose names start with one of these also get a histogram (for the MSE-optimal
    /// int8 clip of LayerQuantizer.scale8); the others keep only their range (much cheaper).
    public var histogramPrefixes: [String]

    /// `histogramPrefixes`: see the property; [""] keeps every histogram.
    public init(histogramPrefixes: [String] = [""]) {
        self.histogramPrefixes = histogramPrefixes
    }

    /// Adds values to the observer of `name` (created on first use).
    private mutating func observe(_ name: String, _ values: UnsafeBufferPointer<Float>) {
        if ranges[name] == nil {
            ranges[name] = RangeObserver(histogram: histogramPrefixes.contains { name.hasPrefix($0) })
        }
        ranges[name]!.observe(values)
    }

    /// Records one observed tensor (and its q/k/v or a/b parts).
    public mutating func record(_ name: String, _ t: FloatTensor) {
        t.data.withUnsafeBufferPointer { d in
            observe(name, d)
            // The parts are channel ranges of the CHW tensor: contiguous slices, no copies.
            func part(_ suffix: String, _ i: Int, of n: Int) {
                let len = t.channels / n * t.plane
                observe(name + "." + suffix, UnsafeBufferPointer(rebasing: d[(i * len)..<((i + 1) * len)]))
            }
            if name.hasSuffix(".qkv") {
                for (i, p) in ["q", "k", "v"].enumerated() { part(p, i, of: 3) }
            } else if name.hasPrefix("pa.") && name.hasSuffix(".out") {
                part("scale", 0, of: 2)
                part("mean", 1, of: 2)
            } else if name.hasSuffix(".fc1") {
                part("a", 0, of: 2)
                part("b", 1, of: 2)
            }
        }
    }

    /// Adds another set's statistics (as if its tensors had been recorded here).
    public mutating func merge(_ other: ActivationStats) {
        for (name, r) in other.ranges { ranges[name, default: RangeObserver(histogram: r.hasHistogram)].merge(r) }
    }

    /// Largest |x| seen at `name`.
    public func maxAbs(_ name: String) throws -> Double {
        guard let r = ranges[name], r.count > 0 else { throw CalibrationError.noStatistics(name) }
        return max(r.maxAbs, 1e-6)
    }
}

/// Why calibration failed.
public enum CalibrationError: Error, CustomStringConvertible {
    case noStatistics(String)
    case unsupported(String)
    case images(String)

    public var description: String {
        switch self {
        case .noStatistics(let n): return "no activation statistics for '\(n)' (is it reached by the calibration images?)"
        case .unsupported(let s): return "cannot quantize: \(s)"
        case .images(let s): return "calibration images: \(s)"
        }
    }
}

/// One line of the per-layer report.
public struct LayerReport: Sendable {
    public var name: String
    public var detail: String
}

/// Writes integer layers into a model file, tracking the real scale of every tensor.
public struct LayerQuantizer {
    public var stats: ActivationStats
    public var writer: ModelFileWriter
    public var report: [LayerReport] = []
    /// The real scale (real = q * s) chosen for each activation tensor, by observer name:
    /// convolution outputs with one scale, LayerNorm outputs, `.gelu`, `.gate`, `.attn`, `.mid`,
    /// spatial / FFN / block / Up outputs, `y_hat_inv_gained`; per-part outputs as
    /// `<qkv>.q/.k/.v` and `<fc1>.a/.b` (layerSQNR reads them).
    public var tensorScales: [String: Double] = [:]
    /// Clip = headroom x the calibration maximum (unseen images may go further).
    public var headroom = 1.5
    /// Convolutions whose input is int8 (their producer clamps to +-127 at the MSE-optimal 8-bit
    /// clip of its calibration histogram; the convolution runs gemm_s8). Empty: all int16.
    public var int8Inputs: Set<String> = []
    /// The activation tensors (observer names) held in int8 as a result.
    public var int8Tensors: Set<String> = []
    static let full = 32767
    /// Weight clipping: MSE-optimal per channel (nano, 2 Kodak crops: +0.5 dB on y', +0.15 dB on
    /// g_s's output against all-max clipping).
    public static let weightClip = WeightClip.mse
    static let qkQmax = 4095

    /// The int8 weights of the model's convolutions, computed on first use and shared by copies.
    public let weights: WeightCache

    /// `weights` may be shared by quantizers of the same float model (it is keyed by layer name).
    public init(stats: ActivationStats, writer: ModelFileWriter, weights: WeightCache = WeightCache()) {
        self.stats = stats
        self.writer = writer
        self.weights = weights
    }

    /// Real scale for tensor `name` held in [-qmax, qmax].
    func scale(_ name: String, _ qmax: Int) throws -> Double {
        try stats.maxAbs(name) * headroom / Double(qmax)
    }

    /// Real scale of int8 tensor `name`: its MSE-optimal 8-bit clip / 127.
    mutating func scale8(_ name: String) throws -> Double {
        guard let r = stats.ranges[name], r.count > 0 else { throw CalibrationError.noStatistics(name) }
        guard r.hasHistogram else {
            throw CalibrationError.unsupported("int8 tensor \(name) was observed without a histogram "
                                               + "(ActivationStats.histogramPrefixes)")
        }
        int8Tensors.insert(name)
        return max(r.bestClip(bits: 8), 1e-6) / 127
    }

    /// Clamp bound and scale of tensor `name`, produced for convolution `consumer`.
    mutating func producer(_ name: String, for consumer: Conv2d) throws -> (qmax: Int, scale: Double) {
        if int8Inputs.contains(consumer.name) { return (127, try scale8(name)) }
        let q = inputQmax(consumer)
        return (q, try scale(name, q))
    }

    // MARK: - Weights

    /// Int8 weights of a convolution in [cout, ky, kx, cin] order (im2col patch order), per-channel
    /// scales (quantized once per model: `weights`).
    func convWeights(_ c: Conv2d) -> QuantizedConv { weights[c] }

    /// The largest input magnitude a GEMM on these weights can take without int32 overflow
    /// (bias kept below 2^30).
    func inputQmax(_ c: Conv2d) -> Int { weights[c].inputQmax }

    // MARK: - Layers

    /// Convolution (dense or depthwise) from input scale sIn to per-channel output scales sOut,
    /// output clamped to [-qmax, qmax].
    mutating func conv(_ c: Conv2d, sIn: Double, sOut: [Double], qmax: Int) throws {
        precondition(sOut.count == c.cout)
        if let s0 = sOut.first, sOut.allSatisfy({ $0 == s0 }) { tensorScales[c.name] = s0 }
        let qc = convWeights(c)
        let q = qc.q, sw = qc.scales
        var bias = [Int32](), mult = [Int32](), shift = [Int32]()
        var clipped = 0
        for o in 0..<c.cout {
            let b = (Double(c.bias[o]) / (sIn * sw[o])).rounded()
            if abs(b) >= Double(1 << 30) { clipped += 1 }
            bias.append(Int32(max(-Double(1 << 30), min(Double(1 << 30), b))))
            let m = FixedMultiplier(sIn * sw[o] / sOut[o])
            mult.append(m.mult)
            shift.append(m.shift)
        }
        let k = c.kernel
        if c.groups == c.cin && c.groups == c.cout && c.groups > 1 {
            writer.add(c.name + TensorName.weights, shape: [c.cout, k, k], int8: q)
        } else {
            guard c.groups == 1 else { throw CalibrationError.unsupported("grouped convolution \(c.name)") }
            writer.add(c.name + TensorName.weights, shape: [c.cout, k, k, c.cin], int8: q)
        }
        writer.add(c.name + TensorName.bias, shape: [c.cout], int32: bias)
        writer.add(c.name + TensorName.mult, shape: [c.cout], int32: mult)
        writer.add(c.name + TensorName.shift, shape: [c.cout], int32: shift)
        if int8Inputs.contains(c.name) {
            writer.add(c.name + TensorName.conv, shape: [5], int32: [Int32(c.stride), Int32(c.padding), Int32(-qmax), Int32(qmax), 8])
        } else {
            writer.add(c.name + TensorName.conv, shape: [4], int32: [Int32(c.stride), Int32(c.padding), Int32(-qmax), Int32(qmax)])
        }
        if clipped > 0 { report.append(LayerReport(name: c.name, detail: "\(clipped) biases clipped to 2^30")) }
    }

    /// LayerNorm from input scale sIn to output scale sOut.
    mutating func layerNorm(_ n: LayerNorm2d, sIn: Double, sOut: Double, qmax: Int) throws {
        let c = n.weight.count
        tensorScales[n.name] = sOut
        let sqrtC = Double(c).squareRoot()
        let gMax = max(n.weight.map { abs(Double($0)) }.max() ?? 0, 1e-12) * sqrtC / sOut
        let bMax = max(n.bias.map { abs(Double($0)) }.max() ?? 0, 1e-12) / sOut
        // g = gamma sqrt(C) 2^(shift-14) / sOut < 2^31 and b = beta 2^(shift-16) / sOut < 2^31.
        let limit = min(45 - log2(gMax), 47 - log2(bMax))
        let shift = min(62, Int(limit.rounded(.down)) - 1)
        guard shift >= 17 else { throw CalibrationError.unsupported("\(n.name): LayerNorm range too wide for shift >= 17") }
        let p2 = pow(2.0, Double(shift))
        let g = n.weight.map { Int32((Double($0) * sqrtC * p2 / 16384 / sOut).rounded()) }
        let b = n.bias.map { Int32((Double($0) * p2 / 65536 / sOut).rounded()) }
        let epsQ = min(Double(UInt64.max / 2), (Double(n.eps) * pow(Double(c), 3) / (sIn * sIn)).rounded())
        let e = UInt64(epsQ)
        writer.add(n.name + TensorName.normGamma, shape: [c], int32: g)
        writer.add(n.name + TensorName.normBeta, shape: [c], int32: b)
        writer.add(n.name + TensorName.norm, shape: [5], int32: [Int32(shift), Int32(-qmax), Int32(qmax),
                                                      Int32(bitPattern: UInt32(e >> 32)), Int32(bitPattern: UInt32(e & 0xFFFF_FFFF))])
    }

    /// 65536-entry table of f over the int16 grid of scale sIn, into scale sOut.
    static func lut(sIn: Double, sOut: Double, _ f: (Double) -> Double) -> [Int16] {
        (0..<65536).map { i in
            let x = Double(Int16(truncatingIfNeeded: i)) * sIn
            return Int16(max(-32767, min(32767, (f(x) / sOut).rounded())))
        }
    }

    static func gelu(_ x: Double) -> Double { 0.5 * x * (1 + erf(x / 2.0.squareRoot())) }

    /// Residual add a (scale sa) + b (scale sb) into scale sOut with one rounding.
    mutating func add(_ name: String, sa: Double, sb: Double, sOut: Double, qmax: Int) {
        let ra = sa / sOut, rb = sb / sOut
        let shift = max(1, min(62, 30 - Int(log2(max(ra, rb)).rounded(.up))))
        let p = pow(2.0, Double(shift))
        writer.add(name, shape: [5], int32: [Int32((ra * p).rounded()), Int32((rb * p).rounded()), Int32(shift),
                                              Int32(-qmax), Int32(qmax)])
    }

    /// An S2C block whose input has scale sIn; returns the output scale (clamped to qmaxOut).
    mutating func block(_ blk: S2CBlock, sIn: Double, qmaxOut: Int, int8Out: Bool = false) throws -> Double {
        let n = blk.name
        var sX = sIn
        if let n1 = blk.norm1 {
            let sp: Double
            switch blk.spatial {
            case .conv(let op):
                let (qIn, sN) = try producer(n1.name, for: op.pw1)
                try layerNorm(n1, sIn: sX, sOut: sN, qmax: qIn)
                let sPw1 = try scale(op.pw1.name, Self.full)
                try conv(op.pw1, sIn: sN, sOut: Array(repeating: sPw1, count: op.pw1.cout), qmax: Self.full)
                let sG = try scale(op.name + TensorName.gelu, Self.full)
                tensorScales[op.name + TensorName.gelu] = sG
                writer.add(op.name + TensorName.gelu + TensorName.lut, shape: [65536], int16: Self.lut(sIn: sPw1, sOut: sG, Self.gelu))
                let (qDw, sDw) = try producer(op.dw.name, for: op.pw2)
                try conv(op.dw, sIn: sG, sOut: Array(repeating: sDw, count: op.dw.cout), qmax: qDw)
                sp = try scale(op.pw2.name, Self.full)
                try conv(op.pw2, sIn: sDw, sOut: Array(repeating: sp, count: op.pw2.cout), qmax: Self.full)
                tensorScales[op.name] = sp
            case .attn(let op):
                let (qIn, sN) = try producer(n1.name, for: op.qkv)
                try layerNorm(n1, sIn: sX, sOut: sN, qmax: qIn)
                let sQ = try scale(op.qkv.name + ".q", Self.qkQmax)
                let sK = try scale(op.qkv.name + ".k", Self.qkQmax)
                let sV = try scale(op.qkv.name + ".v", Self.full)
                let c = op.c
                let sOut = Array(repeating: sQ, count: c) + Array(repeating: sK, count: c) + Array(repeating: sV, count: c)
                // q and k clamp to 4095 (the attention kernel's bound), v to the full range: the
                // clamp range of a GEMM is shared, so q/k are limited by their scale instead.
                try conv(op.qkv, sIn: sN, sOut: sOut, qmax: Self.full)
                tensorScales[op.qkv.name + ".q"] = sQ
                tensorScales[op.qkv.name + ".k"] = sK
                tensorScales[op.qkv.name + ".v"] = sV
                let qProj = inputQmax(op.proj)
                let sA = try scale(op.name + TensorName.attention, qProj)
                tensorScales[op.name + TensorName.attention] = sA
                let logit = FixedMultiplier(sQ * sK / Double(op.headDim).squareRoot() * 256)
                let out = FixedMultiplier(sV / 32768 / sA)
                writer.add(op.name + TensorName.attention, shape: [6], int32: [Int32(op.heads), Int32(op.window), logit.mult, logit.shift,
                                                                   out.mult, out.shift])
                sp = try scale(op.proj.name, Self.full)
                try conv(op.proj, sIn: sA, sOut: Array(repeating: sp, count: op.proj.cout), qmax: Self.full)
                tensorScales[op.name] = sp
            case .identity:
                throw CalibrationError.unsupported("\(n): norm1 without a spatial op")
            }
            let sMid = try scale(n + TensorName.mid, Self.full)
            tensorScales[n + TensorName.mid] = sMid
            add(n + TensorName.add1, sa: sX, sb: sp, sOut: sMid, qmax: Self.full)
            sX = sMid
        }
        let (qFc1, sN2) = try producer(blk.norm2.name, for: blk.ffn.fc1)
        try layerNorm(blk.norm2, sIn: sX, sOut: sN2, qmax: qFc1)
        let f = blk.ffn
        let half = f.fc1.cout / 2
        let sA = try scale(f.fc1.name + ".a", Self.full)
        let sB = try scale(f.fc1.name + ".b", Self.full)
        try conv(f.fc1, sIn: sN2, sOut: Array(repeating: sA, count: half) + Array(repeating: sB, count: half), qmax: Self.full)
        tensorScales[f.fc1.name + ".a"] = sA
        tensorScales[f.fc1.name + ".b"] = sB
        // GELU(a) into its own int16 scale, then the product with b requantized to the gate scale.
        let gMax = max(Self.gelu(sA * 32767), 0.17)
        let sGelu = gMax / 32767
        let (qFc2, sH) = try producer(f.name + TensorName.gate, for: f.fc2)
        tensorScales[f.name + TensorName.gate] = sH
        writer.add(f.name + TensorName.gate + TensorName.lut, shape: [65536], int16: Self.lut(sIn: sA, sOut: sGelu, Self.gelu))
        let m = FixedMultiplier(sGelu * sB / sH)
        writer.add(f.name + TensorName.gate, shape: [4], int32: [m.mult, m.shift, Int32(-qFc2), Int32(qFc2)])
        let sF = try scale(f.fc2.name, Self.full)
        try conv(f.fc2, sIn: sH, sOut: Array(repeating: sF, count: f.fc2.cout), qmax: Self.full)
        tensorScales[f.name] = sF
        let sOut = int8Out ? try scale8(n) : try scale(n, qmaxOut)
        tensorScales[n] = sOut
        add(n + TensorName.add2, sa: sX, sb: sF, sOut: sOut, qmax: qmaxOut)
        return sOut
    }

    /// The input bound of a layer (what its producer must clamp to).
    func inputQmax(_ l: FloatLayer) -> Int {
        switch l {
        case .conv(let c): return inputQmax(c)
        case .up(_, let c): return inputQmax(c)
        case .block: return Self.full
        }
    }

    /// A sequence whose input has scale sIn; the last output is clamped to lastQmax.
    /// Returns the output scale.
    /// lastScales, when given, are the last convolution's per-channel output scales.
    mutating func sequence(_ layers: [FloatLayer], sIn: Double, lastQmax: Int = LayerQuantizer.full,
                           lastScales: [Double]? = nil) throws -> Double {
        var s = sIn
        for (i, l) in layers.enumerated() {
            var next: Conv2d?
            if i + 1 < layers.count {
                switch layers[i + 1] {
                case .conv(let c), .up(_, let c): next = c
                case .block: next = nil
                }
            }
            let int8Next = next.map { int8Inputs.contains($0.name) } ?? false
            let qOut = int8Next ? 127 : i + 1 < layers.count ? inputQmax(layers[i + 1]) : lastQmax
            switch l {
            case .conv(let c):
                if i == layers.count - 1, let ls = lastScales {
                    try conv(c, sIn: s, sOut: ls, qmax: qOut)
                    s = ls[0]
                    continue
                }
                let so = int8Next ? try scale8(c.name) : try scale(c.name, qOut)
                try conv(c, sIn: s, sOut: Array(repeating: so, count: c.cout), qmax: qOut)
                s = so
            case .up(let name, let c):
                let so = int8Next ? try scale8(name) : try scale(name, qOut)
                try conv(c, sIn: s, sOut: Array(repeating: so, count: c.cout), qmax: qOut)
                tensorScales[name] = so
                s = so
            case .block(let b):
                s = try block(b, sIn: s, qmaxOut: qOut, int8Out: int8Next)
            }
        }
        return s
    }
}

extension LayerQuantizer {
    /// A per-channel rescale `name` from scales sIn to sOut, clamped to +-qmax
    /// (IntRescale reads `name.mult`, `.shift`, `.clamp`).
    mutating func rescale(_ name: String, sIn: [Double], sOut: Double, qmax: Int) {
        let m = sIn.map { FixedMultiplier($0 / sOut) }
        writer.add(name + TensorName.mult, shape: [m.count], int32: m.map(\.mult))
        writer.add(name + TensorName.shift, shape: [m.count], int32: m.map(\.shift))
        writer.add(name + TensorName.clamp, shape: [1], int32: [Int32(qmax)])
    }
}

/// A convolution's int8 weights ([cout, ky, kx, cin]), per-channel scales, and the input bound
/// that keeps its int32 accumulator from overflowing.
public struct QuantizedConv: Sendable {
    public var q: [Int8]
    public var scales: [Double]
    public var inputQmax: Int

    /// Quantizes `c` per output channel (LayerQuantizer.weightClip).
    init(_ c: Conv2d) {
        let k = c.kernel, cin = c.cin / c.groups
        var w = [Float](repeating: 0, count: c.weight.count)
        for o in 0..<c.cout {
            for i in 0..<cin {
                for ky in 0..<k {
                    for kx in 0..<k {
                        w[((o * k + ky) * k + kx) * cin + i] = c.weight[((o * cin + i) * k + ky) * k + kx]
                    }
                }
            }
        }
        let (q32, s) = quantizePerChannel(w, outChannels: c.cout, bits: 8, clip: LayerQuantizer.weightClip)
        q = q32.map { Int8($0) }
        scales = s
        let per = q.count / c.cout
        var worst = 1
        for o in 0..<c.cout {
            var sum = 0
            for i in 0..<per { sum += abs(Int(q[o * per + i])) }
            worst = max(worst, sum)
        }
        inputQmax = min(LayerQuantizer.full, (1 << 30) / worst)
    }
}

/// The quantized weights of one float model's convolutions, by layer name, each computed once.
public final class WeightCache: @unchecked Sendable {
    private var entries: [String: QuantizedConv] = [:]
    private let lock = NSLock()

    public init() {}

    /// The quantized weights of `c` (computed now if not yet).
    subscript(_ c: Conv2d) -> QuantizedConv {
        lock.lock()
        if let e = entries[c.name] {
            lock.unlock()
            return e
        }
        lock.unlock()
        let e = QuantizedConv(c)
        lock.lock()
        entries[c.name] = e
        lock.unlock()
        return e
    }

    /// Quantizes every convolution of `model` up front (quantizePerChannel runs on all cores),
    /// reporting (done, total) after each.
    public func prepare(_ model: FloatModel, progress: (Int, Int) -> Void = { _, _ in }) {
        let convs = model.convolutions
        for (i, c) in convs.enumerated() {
            _ = self[c]
            progress(i + 1, convs.count)
        }
    }
}
