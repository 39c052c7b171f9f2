// FloatConfig: the network sizes (train/s2c/config.py ModelConfig), read from the weights' metadata.
import Foundation

/// Every size the S2C-Hybrid graph depends on; field for field train/s2c/config.py `ModelConfig`.
public struct HybridConfig: Codable, Sendable, Equatable {
    /// Config name, e.g. "hybrid-t" or "hybrid-nano".
    public var name: String
    /// C1, C2, C3 of the three main stages.
    public var channels: [Int]
    /// L1, L2, L3.
    public var depths: [Int]
    /// "conv" or "attn" per stage.
    public var stageTypes: [String]
    /// M, channels of y.
    public var latent: Int
    /// N, channels of z and of the hyper transforms.
    public var hyper: Int
    /// ELIC channel groups; they sum to `latent`.
    public var groups: [Int]
    /// Channel-context width.
    public var ccHidden: Int
    /// S2C-Conv blocks per channel-context net.
    public var ccBlocks: Int
    /// Parameter-aggregation width.
    public var paHidden: Int
    /// S2C-Identity blocks per parameter-aggregation net.
    public var paBlocks: Int
    /// Attention head width.
    public var headDim: Int
    /// Attention window side.
    public var window: Int
    /// Gated-FFN expansion r.
    public var ffnExpansion: Int
    /// SepConv expansion.
    public var sepExpansion: Int
    /// SepConv depthwise kernel.
    public var dwKernel: Int
    /// LayerNorm epsilon.
    public var lnEps: Double
    /// Lower bound of the Gaussian scale.
    public var scaleMin: Double
    /// One rate-distortion lambda per quality level.
    public var lambdas: [Double]
    /// Weights format version.
    public var formatVersion: Int

    /// Number of quality levels Q.
    public var qualities: Int { lambdas.count }
    /// Input sides are padded to this (z lives at 1/64).
    public var padMultiple: Int { 64 }

    /// Decodes the JSON stored under the safetensors metadata key "config".
    public static func fromJSON(_ json: String, file: String) throws -> HybridConfig {
        let dec = JSONDecoder()
        dec.keyDecodingStrategy = .convertFromSnakeCase
        let cfg: HybridConfig
        do {
            cfg = try dec.decode(HybridConfig.self, from: Data(json.utf8))
        } catch {
            throw FloatModelError.badConfig(file: file, reason: "\(error)")
        }
        try cfg.validate(file: file)
        return cfg
    }

    /// The checks of config.py `validate`, plus the shapes this runtime assumes.
    public func validate(file: String) throws {
        func fail(_ r: String) -> FloatModelError { .badConfig(file: file, reason: r) }
        guard channels.count == 3, depths.count == 3, stageTypes.count == 3 else {
            throw fail("expected 3 stages, got channels \(channels), depths \(depths), stage_types \(stageTypes)")
        }
        guard groups.reduce(0, +) == latent, groups.allSatisfy({ $0 > 0 }) else {
            throw fail("channel groups \(groups) must be positive and sum to latent \(latent)")
        }
        for (i, (c, t)) in zip(channels, stageTypes).enumerated() {
            guard t == "conv" || t == "attn" else { throw fail("unknown stage type '\(t)'") }
            if t == "attn" && (headDim <= 0 || c % headDim != 0) {
                throw fail("\(c) channels not divisible by head_dim \(headDim)")
            }
            // Stage i runs at 1/2^(i+1) of a side padded to 64: windows must tile it.
            if t == "attn" && (window <= 0 || (padMultiple >> (i + 1)) % window != 0) {
                throw fail("window \(window) does not tile stage \(i + 1) (sides multiple of \(padMultiple >> (i + 1)))")
            }
        }
        guard lambdas.count >= 2 else { throw fail("need at least 2 quality levels, got \(lambdas.count)") }
        guard dwKernel % 2 == 1 else { throw fail("dw_kernel \(dwKernel) must be odd") }
    }
}

/// Errors from loading or running the float model.
public enum FloatModelError: Error, CustomStringConvertible {
    case weightsNotFound(path: String)
    case badConfig(file: String, reason: String)
    case badInput(reason: String)

    public var description: String {
        switch self {
        case let .weightsNotFound(p):
            return "\(p) not found; train with train/train.py and export with train/export.py weights"
        case let .badConfig(f, r): return "\(f): bad model config: \(r)"
        case let .badInput(r): return "bad input: \(r)"
        }
    }
}
