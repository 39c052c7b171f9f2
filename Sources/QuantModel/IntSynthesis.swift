// IntSynthesis.swift: the integer synthesis transform g_s with its inverse gains and the
// final conversion to 8-bit pixels: y_hat' (fixed point) -> RGB. Decode path, Embedded subset.
import FixedPoint

/// Network sizes read from the model file's metadata (train/s2c/config.py ModelConfig).
public struct IntConfig: Sendable, Equatable {
    public var channels: [Int]
    public var depths: [Int]
    /// 0 = S2C-Conv, 1 = S2C-Attention, per stage.
    public var stageKinds: [Int]
    public var latent: Int
    public var hyper: Int
    public var groups: [Int]
    public var qualities: Int
    /// Fraction bits of the fixed-point latents y' and y_hat'.
    public var yFracBits: Int
    /// Gain tables exist for qualities 1 + i / qualitySteps, i = 0 ... (qualities - 1) qualitySteps.
    public var qualitySteps: Int

    /// Rows of the gain tables.
    public var qualityRows: Int { (qualities - 1) * qualitySteps + 1 }

    /// Qualities in 1/256 steps (as the bitstream stores them) this model codes: 1...qualities.
    public var quality256Range: ClosedRange<Int> { 256...(256 * qualities) }

    /// The gain-table row of a quality given in 1/256 steps (as the bitstream stores it), in
    /// `quality256Range` (the codec refuses others; nothing is clamped), rounded to the nearest row.
    public func qualityIndex(quality256 q: Int) -> Int {
        precondition(quality256Range.contains(q), "quality outside the model's range")
        return ((q - 256) * qualitySteps + 128) >> 8
    }

    /// The gain-table row of an integer quality level (1-based).
    public func qualityIndex(level: Int) -> Int { (level - 1) * qualitySteps }

    public init(_ f: ModelFile) throws(ModelFileError) {
        func ints(_ k: String) throws(ModelFileError) -> [Int] { try f.ints(k).map { Int($0) } }
        channels = try ints(ModelKey.channels)
        depths = try ints(ModelKey.depths)
        stageKinds = try ints(ModelKey.stageKinds)
        latent = try f.int(ModelKey.latent)
        hyper = try f.int(ModelKey.hyper)
        groups = try ints(ModelKey.groups)
        qualities = try f.int(ModelKey.qualities)
        yFracBits = try f.int(ModelKey.yFracBits)
        qualitySteps = try f.int(ModelKey.qualitySteps)
        let channelRange = 1...GraphLimits.maxChannels
        guard channels.count == 3, depths.count == 3, stageKinds.count == 3,
              groups.reduce(0, +) == latent, qualities >= 1, yFracBits >= 0, yFracBits <= 14,
              qualitySteps >= 1, qualitySteps <= 256 else {
            throw .malformed("model sizes are inconsistent")
        }
        guard channels.allSatisfy({ channelRange.contains($0) }), depths.allSatisfy({ (0...GraphLimits.maxBlocks).contains($0) }),
              stageKinds.allSatisfy({ $0 == 0 || $0 == 1 }), channelRange.contains(latent), channelRange.contains(hyper),
              !groups.isEmpty, groups.count <= 64, groups.allSatisfy({ $0 >= 1 }), qualities <= 256 else {
            throw .malformed("model sizes are out of range")
        }
    }
}

/// Loads the layers of g_s by name: Up, stage 3, Up, stage 2, Up, stage 1, Up.
func synthesisLayers(_ f: ModelFile, _ cfg: IntConfig, expLUT: [UInt16]) throws(ModelFileError) -> [IntLayer] {
    var layers: [IntLayer] = []
    for (i, stage) in [2, 1, 0].enumerated() {
        layers.append(.up(try IntConv(f, TensorName.synthesis(2 * i) + TensorName.upConv)))
        for b in 0..<cfg.depths[stage] {
            layers.append(.block(try IntBlock(f, TensorName.synthesis(2 * i + 1) + TensorName.child(b), kind: cfg.stageKinds[stage], expLUT: expLUT)))
        }
    }
    layers.append(.up(try IntConv(f, TensorName.synthesis(6) + TensorName.upConv)))
    return layers
}

/// Integer g_s: inverse gain per quality level, the synthesis layers, 8-bit output.
public struct IntSynthesis: Sendable {
    public let config: IntConfig
    let layers: [IntLayer]
    /// [quality row][channel] requantization of y_hat' into g_s's input scale.
    let invGainMult: [Int32], invGainShift: [Int32]
    /// g_s's input bound (what its first convolution can take without overflow).
    let inputQmax: Int32
    let outMult: [Int32], outShift: [Int32]

    public init(_ f: ModelFile) throws(ModelFileError) {
        config = try IntConfig(f)
        let expLUT = try f.uint16(TensorName.expLUT)
        layers = try synthesisLayers(f, config, expLUT: expLUT)
        let n = config.qualityRows * config.latent
        invGainMult = try params(f, TensorName.inverseGain + TensorName.mult, n)
        invGainShift = try params(f, TensorName.inverseGain + TensorName.shift, n)
        inputQmax = try params(f, TensorName.inverseGain + TensorName.clamp, 1)[0]
        guard inputQmax >= 1, inputQmax <= 32767 else { throw .malformed("'inv_gain.clamp' is invalid") }
        outMult = try params(f, TensorName.pixels + TensorName.mult, 3)
        outShift = try params(f, TensorName.pixels + TensorName.shift, 3)
        try checkRequant(invGainMult, invGainShift, TensorName.inverseGain)
        try checkRequant(outMult, outShift, TensorName.pixels)
        // y_hat is 1/16 of the tile; g_s must give RGB at the tile's size.
        let out = try checkSequence(layers, GraphShape(c: config.latent, g: 4))
        guard out == GraphShape(c: 3, g: 64) else { throw .malformed("g_s does not produce RGB at the image's size") }
    }

    /// y_hat' in fixed point (h, w, latent) at gain-table row q (IntConfig.qualityIndex) ->
    /// interleaved RGB bytes of the padded size (16 h, 16 w). `observe`, when given, sees g_s's
    /// input (`y_hat_inv_gained`) and every layer output under the float model's names.
    public func callAsFunction(_ yHat: IntTensor, quality q: Int, _ kn: Kernels,
                               observe: IntObserver? = nil) -> [UInt8] {
        precondition(yHat.c == config.latent && q >= 0 && q < config.qualityRows)
        let m = config.latent
        var x = IntTensor(h: yHat.h, w: yHat.w, c: m, overwritten: ())
        x.data.withUnsafeMutableBufferPointer { o in
            yHat.data.withUnsafeBufferPointer { s in
                invGainMult.withUnsafeBufferPointer { mp in
                    invGainShift.withUnsafeBufferPointer { sp in
                        kn.ops.rescale_s16(o.baseAddress, s.baseAddress, Int32(yHat.h * yHat.w), Int32(m),
                                           mp.baseAddress! + q * m, sp.baseAddress! + q * m, -inputQmax, inputQmax)
                    }
                }
            }
        }
        observe?(TensorName.inverseGained, x)
        let y = runSequence(layers, x, kn, observe)
        var px = IntTensor(h: y.h, w: y.w, c: 3, overwritten: ())
        px.data.withUnsafeMutableBufferPointer { o in
            y.data.withUnsafeBufferPointer { s in
                outMult.withUnsafeBufferPointer { mp in
                    outShift.withUnsafeBufferPointer { sp in
                        kn.ops.rescale_s16(o.baseAddress, s.baseAddress, Int32(y.h * y.w), 3, mp.baseAddress, sp.baseAddress, 0, 255)
                    }
                }
            }
        }
        return px.data.map { UInt8(truncatingIfNeeded: $0) }
    }
}
