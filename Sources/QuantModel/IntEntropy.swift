// IntEntropy.swift: the integer hyper-synthesis (z_hat -> psi) and the integer ELIC SCCTX
// entropy-parameter model: channel groups x checkerboard, producing fixed-point means and
// table indices, driven by a SymbolCoder so that the encoder and the decoder run the very same
// code (the encoder's coder computes and records symbols, the decoder's reads them).
// Decode path, Embedded subset.
import FixedPoint

/// Where the symbols come from or go to. `symbol(channel:position:mean:table:)` returns the
/// symbol s of latent (channel, position) given its fixed-point mean and CDF table index;
/// y_hat' = s * 2^yFracBits + mean.
public protocol SymbolCoder {
    mutating func symbol(channel: Int, position: Int, mean: Int32, table: Int) -> Int32
}

/// Per-channel requantization of a whole tensor (rescale_s16), clamped to +-qmax.
public struct IntRescale: Sendable {
    public let name: String
    let mult: [Int32], shift: [Int32], qmax: Int32

    /// `N.mult`, `N.shift` int32 [c], `N.clamp` int32 [1].
    public init(_ f: ModelFile, _ name: String) throws(ModelFileError) {
        self.name = name
        mult = try f.int32(name + TensorName.mult)
        shift = try params(f, name + TensorName.shift, mult.count)
        qmax = try params(f, name + TensorName.clamp, 1)[0]
        guard qmax >= 0, qmax <= 32767 else { throw .malformed("'\(name).clamp' is invalid") }
        for s in shift where s < 1 || s > 62 { throw .malformed("'\(name).shift' is invalid") }
        try checkRequant(mult, shift, name)
    }

    /// Refuses a rescale that is not for `c` channels.
    func check(_ c: Int) throws(ModelFileError) {
        guard mult.count == c else { throw .malformed("'\(name)' rescales \(mult.count) channels, its input has \(c)") }
    }

    public func callAsFunction(_ x: IntTensor, _ kn: Kernels) -> IntTensor {
        precondition(x.c == mult.count, "rescale of \(x.c) channels with \(mult.count) multipliers")
        var out = IntTensor(h: x.h, w: x.w, c: x.c, overwritten: ())
        out.data.withUnsafeMutableBufferPointer { o in
            x.data.withUnsafeBufferPointer { s in
                mult.withUnsafeBufferPointer { m in
                    shift.withUnsafeBufferPointer { sh in
                        kn.ops.rescale_s16(o.baseAddress, s.baseAddress, Int32(x.h * x.w), Int32(x.c),
                                           m.baseAddress, sh.baseAddress, -qmax, qmax)
                    }
                }
            }
        }
        return out
    }
}

/// Loads a sequence: `prefix.inp` conv, `prefix.blocks.i` blocks of `kind`, `prefix.out` conv.
func contextSequence(_ f: ModelFile, _ prefix: String, blocks: Int, kind: Int) throws(ModelFileError) -> [IntLayer] {
    var l: [IntLayer] = [.conv(try IntConv(f, prefix + TensorName.input))]
    for b in 0..<blocks { l.append(.block(try IntBlock(f, prefix + TensorName.block(b), kind: kind, expLUT: []))) }
    l.append(.conv(try IntConv(f, prefix + TensorName.output)))
    return l
}

/// h_s on the integer z_hat: z symbols s -> z_q = clamp(s 2^zFracBits + median_q) -> psi.
public struct IntHyperSynthesis: Sendable {
    public let zFracBits: Int
    public let medians: [Int32]
    let qmax: Int32
    let layers: [IntLayer]

    public init(_ f: ModelFile, _ cfg: IntConfig) throws(ModelFileError) {
        zFracBits = try f.int(ModelKey.zFracBits)
        medians = try params(f, TensorName.zMedian, cfg.hyper)
        qmax = try params(f, TensorName.zClamp, 1)[0]
        guard zFracBits >= 0, zFracBits <= 14, qmax >= 1, qmax <= 32767 else { throw .malformed("z parameters are invalid") }
        for m in medians where m < -(1 << 30) || m > 1 << 30 { throw .malformed("'z.median' is out of range") }
        var l: [IntLayer] = []
        l.append(.up(try IntConv(f, TensorName.hyperSynthesis(0) + TensorName.upConv)))
        l.append(.block(try IntBlock(f, TensorName.hyperSynthesis(1), kind: 0, expLUT: [])))
        l.append(.up(try IntConv(f, TensorName.hyperSynthesis(2) + TensorName.upConv)))
        l.append(.block(try IntBlock(f, TensorName.hyperSynthesis(3), kind: 0, expLUT: [])))
        l.append(.conv(try IntConv(f, TensorName.hyperSynthesis(4))))
        // z is 1/64 of the tile; psi must come out at 1/16 (the latent's size).
        let out = try checkSequence(l, GraphShape(c: cfg.hyper, g: 1))
        guard out.g == 4, out.c == (try IntHyperSynthesis.psiChannels(f)) else { throw .malformed("h_s does not produce psi at the latent's size") }
        layers = l
    }

    /// Channels of psi (h_s's output): the cout of `h_s.4`, read from its shape.
    static func psiChannels(_ f: ModelFile) throws(ModelFileError) -> Int {
        let s = try f.info(TensorName.hyperSynthesis(4) + TensorName.weights, .i8).shape
        guard s.count == 4 else { throw .malformed("'h_s.4.w' is not [cout, k, k, cin]") }
        return s[0]
    }

    /// z symbols (h, w, hyper) -> the fixed-point z_hat that h_s reads.
    public func zHat(symbols: IntTensor) -> IntTensor {
        var out = symbols
        let c = symbols.c
        for i in 0..<out.data.count {
            let v = Int64(symbols.data[i]) << Int64(zFracBits) + Int64(medians[i % c])
            out.data[i] = Int16(max(-Int64(qmax), min(Int64(qmax), v)))
        }
        return out
    }

    /// psi from the z symbols. `observe`, when given, sees every layer output under the float
    /// model's names.
    public func callAsFunction(symbols: IntTensor, _ kn: Kernels, observe: IntObserver? = nil) -> IntTensor {
        runSequence(layers, zHat(symbols: symbols), kn, observe)
    }
}

/// The SCCTX parameter networks and the tables that turn their outputs into CDF indices.
public struct IntEntropyModel: Sendable {
    public let groups: [Int]
    public let yFracBits: Int
    let cc: [[IntLayer]], ccIn: [IntRescale?]
    let sc: [IntConv], scIn: [IntRescale]
    let pa: [[IntLayer]]
    /// Per group: rescales of the sc, cc and psi parts into the parameter network's input scale.
    let paSc: [IntRescale], paCc: [IntRescale?], paPsi: [IntRescale]
    public let thresholds: [ScaleQuantizer]
    public let tables: CDFTableSet

    public init(_ f: ModelFile, _ cfg: IntConfig) throws(ModelFileError) {
        let ccBlocks = try f.int(ModelKey.ccBlocks), paBlocks = try f.int(ModelKey.paBlocks)
        guard (0...GraphLimits.maxBlocks).contains(ccBlocks), (0...GraphLimits.maxBlocks).contains(paBlocks) else {
            throw .malformed("'\(ModelKey.ccBlocks)' or '\(ModelKey.paBlocks)' is out of range (0...\(GraphLimits.maxBlocks))")
        }
        groups = cfg.groups
        yFracBits = cfg.yFracBits
        var cc: [[IntLayer]] = [], ccIn: [IntRescale?] = [], sc: [IntConv] = [], scIn: [IntRescale] = []
        var pa: [[IntLayer]] = [], paSc: [IntRescale] = [], paCc: [IntRescale?] = [], paPsi: [IntRescale] = []
        var th: [ScaleQuantizer] = []
        for k in 0..<groups.count {
            if k == 0 {
                cc.append([])
                ccIn.append(nil)
                paCc.append(nil)
            } else {
                cc.append(try contextSequence(f, TensorName.channelContext(k), blocks: ccBlocks, kind: 0))
                ccIn.append(try IntRescale(f, TensorName.channelContext(k) + TensorName.contextInput))
                paCc.append(try IntRescale(f, TensorName.parameters(k) + TensorName.fromContext))
            }
            sc.append(try IntConv(f, TensorName.spatialContext(k)))
            scIn.append(try IntRescale(f, TensorName.spatialContext(k) + TensorName.contextInput))
            pa.append(try contextSequence(f, TensorName.parameters(k), blocks: paBlocks, kind: 2))
            paSc.append(try IntRescale(f, TensorName.parameters(k) + TensorName.fromSpatial))
            paPsi.append(try IntRescale(f, TensorName.parameters(k) + TensorName.fromHyper))
            th.append(ScaleQuantizer(thresholds: try f.int32(TensorName.parameters(k) + TensorName.thresholds)))
        }
        self.cc = cc
        self.ccIn = ccIn
        self.sc = sc
        self.scIn = scIn
        self.pa = pa
        self.paSc = paSc
        self.paCc = paCc
        self.paPsi = paPsi
        thresholds = th
        tables = CDFTableSet(cdf: try f.int32(TensorName.gaussianTables + TensorName.cdf), offsets: try f.int32(TensorName.gaussianTables + TensorName.offsets),
                             tails: try f.int32(TensorName.gaussianTables + TensorName.tails))
        if let why = tables.validate() { throw .malformed("Gaussian CDF tables: \(why)") }
        for q in th where q.thresholds.count + 1 != tables.count { throw .malformed("scale thresholds do not match the tables") }
        // Each group's networks on the tensors run() gives them (all at the latent's size).
        let psi = try IntHyperSynthesis.psiChannels(f)
        var done = 0
        for (k, gk) in groups.enumerated() {
            try paPsi[k].check(psi)
            var inputs = 2 * gk + psi
            if k > 0, let inR = ccIn[k], let outR = paCc[k] {
                try inR.check(done)
                let c = try checkSequence(cc[k], GraphShape(c: done, g: 4))
                guard c.g == 4 else { throw .malformed("'cc.\(k)' changes the latent's size") }
                try outR.check(c.c)
                inputs += c.c
            }
            try scIn[k].check(gk)
            let scOut = try sc[k].checkSame(GraphShape(c: gk, g: 4))
            guard scOut.c == 2 * gk else { throw .malformed("'sc.\(k)' does not produce \(2 * gk) channels") }
            try paSc[k].check(2 * gk)
            let out = try checkSequence(pa[k], GraphShape(c: inputs, g: 4))
            guard out == GraphShape(c: 2 * gk, g: 4) else { throw .malformed("'pa.\(k)' does not produce \(2 * gk) channels at the latent's size") }
            done += gk
        }
    }

    /// Codes (or decodes) all of y' group by group, anchors then non-anchors, in raster order
    /// inside each pass and channel order inside each position. Returns y_hat' (h, w, latent)
    /// in fixed point with yFracBits fraction bits. `observe`, when given, sees the layers of the
    /// context (cc) and parameter (sc, pa) networks under the float model's names, and each
    /// group's parameters as `pa.<k>` (the pa networks run twice per group: anchors first).
    public func run<C: SymbolCoder>(psi: IntTensor, coder: inout C, _ kn: Kernels,
                                    observe: IntObserver? = nil) -> IntTensor {
        let h = psi.h, w = psi.w, n = h * w
        let m = groups.reduce(0, +)
        var yHat = IntTensor(h: h, w: w, c: m)
        var decoded: [IntTensor] = []
        var start = 0
        for (k, gk) in groups.enumerated() {
            let psiPart = paPsi[k](psi, kn)
            var ccPart: IntTensor? = nil
            if k > 0, let inR = ccIn[k], let outR = paCc[k] {
                let c = runSequence(cc[k], inR(IntTensor.concat(decoded), kn), kn, observe)
                observe?(TensorName.channelContext(k), c)
                ccPart = outR(c, kn)
            }
            var yk = IntTensor(h: h, w: w, c: gk)
            for pass in 0..<2 {
                // Raster-order positions of this pass: anchors ((y + x) even), then the rest.
                var pos: [Int] = []
                pos.reserveCapacity((n + 1) / 2)
                for p in 0..<n where (p / w + p % w) % 2 == pass { pos.append(p) }
                var scPart: IntTensor? = nil                                // nil: zeros (any scale)
                if pass == 1 {
                    var anchors = yk
                    for p in 0..<n where (p / w + p % w) % 2 == 1 {
                        for c in 0..<gk { anchors.data[p * gk + c] = 0 }
                    }
                    scPart = paSc[k](sc[k](scIn[k](anchors, kn), kn, observe), kn)
                }
                // The parameter network is per position (1x1 convolutions, LayerNorm, Gated-FFN), so
                // it runs on this pass's positions only (the same values there as on the whole
                // tensor); with an observer it runs densely, as the float model's observer expects.
                let params: IntTensor, row: [Int]
                if observe == nil && pa[k].allSatisfy({ $0.perPosition }) {
                    var parts: [(tensor: IntTensor?, width: Int)] = [(scPart, 2 * gk)]
                    if let c = ccPart { parts.append((c, c.c)) }
                    parts.append((psiPart, psiPart.c))
                    params = runSequence(pa[k], IntTensor.gather(parts, positions: pos), kn)
                    row = Array(0..<pos.count)
                } else {
                    var parts = [scPart ?? IntTensor(h: h, w: w, c: 2 * gk)]
                    if let c = ccPart { parts.append(c) }
                    parts.append(psiPart)
                    params = runSequence(pa[k], IntTensor.concat(parts), kn, observe)   // (scale | mean)
                    observe?("pa.\(k)", params)
                    row = pos
                }
                for (i, p) in pos.enumerated() {
                    let r = row[i]
                    for c in 0..<gk {
                        let scale = Int32(params.data[r * 2 * gk + c])
                        let mean = Int32(params.data[r * 2 * gk + gk + c])
                        let table = thresholds[k].index(scale)
                        let s = coder.symbol(channel: start + c, position: p, mean: mean, table: table)
                        let v = Int64(s) << Int64(yFracBits) + Int64(mean)
                        yk.data[p * gk + c] = Int16(max(-32767, min(32767, v)))
                    }
                }
            }
            decoded.append(yk)
            for p in 0..<n {
                for c in 0..<gk { yHat.data[p * m + start + c] = yk.data[p * gk + c] }
            }
            start += gk
        }
        return yHat
    }
}
