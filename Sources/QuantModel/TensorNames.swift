// TensorNames.swift: every metadata key and tensor name of an integer .s2cq model, the one table
// the calibrator's writer (Sources/Calibrate) and the integer runtime's reader (Int*.swift)
// share; docs/model-format.md describes each tensor. Module paths are the PyTorch reference's
// (train/s2c), so that float and integer observers report the same names. Embedded subset.

/// Metadata keys of an integer model.
public enum ModelKey {
    /// Config name, e.g. "hybrid-t".
    public static let model = "model"
    /// C1, C2, C3; L1, L2, L3; 0 = conv, 1 = attention per stage.
    public static let channels = "channels", depths = "depths", stageKinds = "stage_kinds"
    /// M (channels of y) and N (channels of z).
    public static let latent = "latent", hyper = "hyper"
    /// ELIC channel groups of y.
    public static let groups = "groups"
    /// Quality levels and the steps per level of the gain tables.
    public static let qualities = "qualities", qualitySteps = "quality_steps"
    /// Fraction bits of the fixed-point y_hat' and z_hat.
    public static let yFracBits = "y_frac_bits", zFracBits = "z_frac_bits"
    /// S2C blocks per channel-context and per parameter-aggregation network.
    public static let ccBlocks = "cc_blocks", paBlocks = "pa_blocks"
}

/// Tensor names: a layer's tensors are its module path followed by a parameter suffix.
public enum TensorName {
    // MARK: Parameter suffixes

    /// Convolution: int8 weights, int32 bias, per-channel requantization, [stride, pad, lo, hi(, bits)].
    public static let weights = ".w", bias = ".bias", mult = ".mult", shift = ".shift", conv = ".conv"
    /// Rescale (with .mult, .shift) and gain-table clamp bound.
    public static let clamp = ".clamp"
    /// LayerNorm: per-channel gamma, beta and [eps, ...] parameters.
    public static let normGamma = ".g", normBeta = ".b", norm = ".ln"
    /// 65536-entry int16 lookup table (GELU; the gate's GELU).
    public static let lut = ".lut"
    /// CDF table set: concatenated CDFs, per-table offsets and tails.
    public static let cdf = ".cdf", offsets = ".offsets", tails = ".tails"

    // MARK: Sub-modules (PyTorch names, also the observers' names)

    /// S2C block parts: the norms, the spatial op, its residual add and the mid-block stream, the FFN, its add.
    public static let norm1 = ".norm1", spatial = ".spatial", add1 = ".add1", mid = ".mid"
    public static let norm2 = ".norm2", ffn = ".ffn", add2 = ".add2"
    /// SepConv: pointwise, GELU (table and observed output), depthwise, pointwise.
    public static let pw1 = ".pw1", gelu = ".gelu", dw = ".dw", pw2 = ".pw2"
    /// Gated FFN: fc1 (a | b), the gate GELU(a) * b, fc2.
    public static let fc1 = ".fc1", gate = ".gate", fc2 = ".fc2"
    /// Window attention: qkv projection, attention parameters and output, proj.
    public static let qkv = ".qkv", attention = ".attn", proj = ".proj"
    /// Entry i of an nn.Sequential (a stage's blocks).
    public static func child(_ i: Int) -> String { ".\(i)" }
    /// Up: its convolution (the module's first child; PixelShuffle has no tensors).
    public static let upConv = ".0"
    /// Context / parameter networks: input 1x1, S2C blocks, output 1x1.
    public static let input = ".inp", output = ".out"
    public static func block(_ b: Int) -> String { ".blocks.\(b)" }

    // MARK: Networks

    /// Entry i of g_a, g_s, h_a, h_s (nn.Sequential indices).
    public static func analysis(_ i: Int) -> String { "g_a.\(i)" }
    public static func synthesis(_ i: Int) -> String { "g_s.\(i)" }
    public static func hyperAnalysis(_ i: Int) -> String { "h_a.\(i)" }
    public static func hyperSynthesis(_ i: Int) -> String { "h_s.\(i)" }
    /// SCCTX group k: channel context (k >= 1), checkerboard spatial context, parameter aggregation.
    public static func channelContext(_ k: Int) -> String { "cc.\(k)" }
    public static func spatialContext(_ k: Int) -> String { "sc.\(k)" }
    public static func parameters(_ k: Int) -> String { "pa.\(k)" }

    // MARK: Rescales and tables outside the layers

    /// Window attention's shared exp table.
    public static let expLUT = "exp_lut"
    /// Per-quality-row gains (encoder, y -> y') and inverse gains (decoder, y_hat' -> g_s input),
    /// with .mult, .shift and .clamp.
    public static let gain = "gain", inverseGain = "inv_gain"
    /// g_s's last output -> 8-bit pixels (.mult, .shift).
    public static let pixels = "g_s.out"
    /// y' -> h_a's input scale, and h_a's output -> z in the decoder's z_hat format (rescales).
    public static let hyperAnalysisInput = "h_a.in", zOutput = "z.out"
    /// z_hat = symbol + median (fixed point), h_s's input bound.
    public static let zMedian = "z.median", zClamp = "z.clamp"
    /// The factorized prior's and the Gaussian CDF table sets (with .cdf, .offsets, .tails).
    public static let zTables = "z", gaussianTables = "gauss"
    /// SCCTX rescales into a network's input scale: context from y_hat', spatial context from
    /// y_hat', and the parameter aggregation's three inputs.
    public static let contextInput = ".in", fromSpatial = ".in_sc", fromContext = ".in_cc", fromHyper = ".in_psi"
    /// The parameter aggregation's scale-index thresholds.
    public static let thresholds = ".thresholds"

    // MARK: Observer-only names

    /// g_s's input after the inverse gains.
    public static let inverseGained = "y_hat_inv_gained"
}
