// IntAnalysis.swift: the integer encoder front end: 8-bit RGB -> integer g_a -> y, the
// per-quality gains into the fixed-point y' that the entropy model codes, and h_a -> the z
// symbols. Same Embedded subset as the decode path: encoding needs only the .s2cq file.
import FixedPoint

/// Integer g_a, gains and h_a. Formats (docs/model-format.md): pixels enter as int16 equal to
/// the byte value (real scale 1/255 exactly); y leaves g_a in g_a.6's scale; y' is in
/// Q`y_frac_bits` (the entropy model's format); z symbols are s_z = round(z - median).
public struct IntAnalysis: Sendable {
    public let config: IntConfig
    /// Fraction bits of z and of the medians (IntHyperSynthesis's z_hat format).
    public let zFracBits: Int
    /// Per-channel medians of z in Q`zFracBits`.
    public let medians: [Int32]
    let analysis: [IntLayer]
    /// [quality][channel] requantization of y (g_a's output scale) into y' in Q`y_frac_bits`.
    let gainMult: [Int32], gainShift: [Int32]
    let gainQmax: Int32
    /// y' (Q`y_frac_bits`) -> h_a's input scale; h_a; h_a's output -> z in Q`zFracBits`.
    let hyperIn: IntRescale
    let hyper: [IntLayer]
    let zOut: IntRescale

    public init(_ f: ModelFile, _ cfg: IntConfig) throws(ModelFileError) {
        // Everything into locals first: self is assigned only once nothing can throw.
        let expLUT = try f.uint16(TensorName.expLUT)
        var ga: [IntLayer] = []
        for stage in 0..<3 {
            let down = try IntConv(f, TensorName.analysis(2 * stage))
            guard stage > 0 || down.cin == 3 else { throw .malformed("'g_a.0' does not take RGB") }
            ga.append(.conv(down))
            for b in 0..<cfg.depths[stage] {
                ga.append(.block(try IntBlock(f, TensorName.analysis(2 * stage + 1) + TensorName.child(b), kind: cfg.stageKinds[stage], expLUT: expLUT)))
            }
        }
        let last = try IntConv(f, TensorName.analysis(6))
        guard last.cout == cfg.latent else { throw .malformed("'g_a.6' does not produce \(cfg.latent) channels") }
        ga.append(.conv(last))
        let n = cfg.qualityRows * cfg.latent
        let gm = try params(f, TensorName.gain + TensorName.mult, n)
        let gs = try params(f, TensorName.gain + TensorName.shift, n)
        let gq = try params(f, TensorName.gain + TensorName.clamp, 1)[0]
        guard gq >= 1, gq <= 32767 else { throw .malformed("'gain.clamp' is invalid") }
        for i in 0..<n where gm[i] < 0 || gs[i] < 1 || gs[i] > 62 {
            throw .malformed("'gain' entry \(i) has an invalid requantization")
        }
        let hIn = try IntRescale(f, TensorName.hyperAnalysisInput)
        let ha: [IntLayer] = [.conv(try IntConv(f, TensorName.hyperAnalysis(0))),
                              .block(try IntBlock(f, TensorName.hyperAnalysis(1), kind: 0, expLUT: [])),
                              .conv(try IntConv(f, TensorName.hyperAnalysis(2))),
                              .block(try IntBlock(f, TensorName.hyperAnalysis(3), kind: 0, expLUT: [])),
                              .conv(try IntConv(f, TensorName.hyperAnalysis(4)))]
        let zo = try IntRescale(f, TensorName.zOutput)
        let zf = try f.int("z_frac_bits")
        let med = try params(f, TensorName.zMedian, cfg.hyper)
        guard zf >= 0, zf <= 14 else { throw .malformed("'z_frac_bits' is invalid") }
        guard hIn.mult.count == cfg.latent, zo.mult.count == cfg.hyper else {
            throw .malformed("'h_a.in' or 'z.out' does not match the latent sizes")
        }
        for m in med where m < -(1 << 30) || m > 1 << 30 { throw .malformed("'z.median' is out of range") }
        // g_a takes the padded tile to 1/16, h_a that to 1/64 (z).
        guard try checkSequence(ga, GraphShape(c: 3, g: 64)) == GraphShape(c: cfg.latent, g: 4) else {
            throw .malformed("g_a does not produce the latent at 1/16 of the image's size")
        }
        guard try checkSequence(ha, GraphShape(c: cfg.latent, g: 4)) == GraphShape(c: cfg.hyper, g: 1) else {
            throw .malformed("h_a does not produce z at 1/64 of the image's size")
        }
        config = cfg
        analysis = ga
        gainMult = gm
        gainShift = gs
        gainQmax = gq
        hyperIn = hIn
        hyper = ha
        zOut = zo
        zFracBits = zf
        medians = med
    }

    /// Bottom/right edge replication of interleaved RGB up to multiples of `multiple`
    /// (model.py `pad_to`). Returns the padded pixels and their width and height.
    public static func padReplicate(rgb: [UInt8], width: Int, height: Int,
                                    multiple: Int = 64) -> ([UInt8], Int, Int) {
        precondition(width > 0 && height > 0 && multiple > 0 && rgb.count == width * height * 3)
        let pw = (width + multiple - 1) / multiple * multiple
        let ph = (height + multiple - 1) / multiple * multiple
        if pw == width && ph == height { return (rgb, width, height) }
        var out = [UInt8](repeating: 0, count: pw * ph * 3)
        for y in 0..<ph {
            let src = min(y, height - 1) * width
            for x in 0..<pw {
                let s = (src + min(x, width - 1)) * 3, d = (y * pw + x) * 3
                out[d] = rgb[s]
                out[d + 1] = rgb[s + 1]
                out[d + 2] = rgb[s + 2]
            }
        }
        return (out, pw, ph)
    }

    /// g_a on interleaved RGB of the padded size (sides multiples of 64): y (h/16, w/16, latent)
    /// in g_a.6's output scale. Pixels need no clamp: 255 is far below any GEMM input bound.
    /// `observe`, when given, sees every layer output under the float model's names.
    public func y(pixels: [UInt8], h: Int, w: Int, _ kn: Kernels, observe: IntObserver? = nil) -> IntTensor {
        precondition(pixels.count == h * w * 3 && h % 64 == 0 && w % 64 == 0, "g_a needs a padded RGB image")
        let x = IntTensor(h: h, w: w, c: 3, data: pixels.map { Int16($0) })
        return runSequence(analysis, x, kn, observe)
    }

    /// y' = y * gain(q) in Q`y_frac_bits`, at quality level q (1-based).
    public func gained(_ y: IntTensor, quality q: Int, _ kn: Kernels) -> IntTensor {
        let m = config.latent
        precondition(y.c == m && q >= 0 && q < config.qualityRows)
        var out = IntTensor(h: y.h, w: y.w, c: m)
        out.data.withUnsafeMutableBufferPointer { o in
            y.data.withUnsafeBufferPointer { s in
                gainMult.withUnsafeBufferPointer { mp in
                    gainShift.withUnsafeBufferPointer { sp in
                        kn.ops.rescale_s16(o.baseAddress, s.baseAddress, Int32(y.h * y.w), Int32(m),
                                           mp.baseAddress! + q * m, sp.baseAddress! + q * m,
                                           -gainQmax, gainQmax)
                    }
                }
            }
        }
        return out
    }

    /// z = h_a(y') in Q`zFracBits` (h/4, w/4 of y').
    public func z(yGained: IntTensor, _ kn: Kernels) -> IntTensor {
        precondition(yGained.c == config.latent)
        return zOut(runSequence(hyper, hyperIn(yGained, kn), kn), kn)
    }

    /// z symbols s_z = round(z - median), half up, on integers:
    /// (z_q - median_q + 2^(zFracBits-1)) >> zFracBits. IntHyperSynthesis.zHat inverts it.
    public func zSymbols(yGained: IntTensor, _ kn: Kernels) -> IntTensor {
        var s = z(yGained: yGained, kn)
        let c = s.c
        let half: Int32 = zFracBits > 0 ? 1 << Int32(zFracBits - 1) : 0
        for i in 0..<s.data.count {
            let v = (Int32(s.data[i]) - medians[i % c] + half) >> Int32(zFracBits)
            s.data[i] = Int16(max(-32767, min(32767, v)))
        }
        return s
    }
}
