// Observe.swift: the calibrator's float passes over the calibration images: activation
// statistics of every network and the float samples the integer codec is measured against,
// g_a once per image and the rest once per image and quality, on all cores.
import _COpenBLAS
import Foundation

/// Runs the float model on the calibration images: g_a once per image, then for every quality
/// the gains, h_a, the factorized prior, h_s, the SCCTX entropy model and g_s. Records (when
/// `statistics`) the activation ranges of everything the integer codec computes: g_a's layers
/// by module name, "y", the gained "y_gained", h_a's layers, "z", "z_hat", h_s's and the SCCTX
/// networks' layers, "y_hat", "y_hat_inv_gained" and g_s's layers. Returns the statistics and
/// one float sample per image and quality, in image-major order (samples[i * Q + k] is image i
/// at qualities[k]).
///
/// `histogramPrefixes` (ActivationStats): which tensors keep a histogram; the default keeps
/// all, `int8HistogramPrefixes` those --int8-budget may need, [] none.
/// `workers` float passes run at once (0: one per core), each with single-threaded BLAS; the
/// statistics do not depend on it (ActivationStats is order-independent) and the float
/// arithmetic of a pass does not either, so the result is the same for every worker count.
/// `progress(done, total)` counts passes (images + images x qualities), from any thread, in order.
public func observeCodec(_ model: FloatModel, images: [FloatTensor], qualities: [Int], statistics: Bool = true,
                         histogramPrefixes: [String] = [""], workers: Int = 0,
                         progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }) throws
    -> (ActivationStats, [SynthesisSample]) {
    let nq = qualities.count
    let total = images.count * (1 + nq)
    let counter = ProgressCounter(total: total, report: progress)
    let pool = WorkerPool(workers: workers, histogramPrefixes: histogramPrefixes)

    // g_a per image.
    let ys = SendableBox([FloatTensor?](repeating: nil, count: images.count))
    let gaStats = pool.run(items: images.count) { i, stats in
        let x = images[i].paddedReplicate(multiple: model.config.padMultiple)
        let y = model.analysis(x, observe: statistics ? { stats.record($0, $1) } : nil)
        if statistics { stats.record("y", y) }
        ys.set(i, y)
        counter.step()
    }

    // The rest per image and quality.
    let samples = SendableBox([SynthesisSample?](repeating: nil, count: images.count * nq))
    let passStats = pool.run(items: images.count * nq) { item, stats in
        let y = ys.value[item / nq]!
        let q = qualities[item % nq]
        let obs: FloatObserver? = statistics ? { stats.record($0, $1) } : nil
        let yg = FloatModel.scaled(y, model.gains(quality: Float(q)).gain)
        obs?("y_gained", yg)
        let z = model.hyperAnalysis(yg, observe: obs)
        obs?("z", z)
        let zHat = model.prior.quantize(z)
        obs?("z_hat", zHat)
        let psi = model.hyperSynthesis(zHat, observe: obs)
        let ent = model.entropyModel(yGained: yg, psi: psi, observe: obs)
        obs?("y_hat", ent.yHat)
        let xh = model.synthesize(yHat: ent.yHat, quality: Float(q), observe: obs)
        samples.set(item, SynthesisSample(quality: q, yGained: yg, zHat: zHat, zLik: model.prior.likelihoods(zHat),
                                          entropy: ent, xHat: xh))
        counter.step()
    }
    var stats = ActivationStats(histogramPrefixes: histogramPrefixes)
    for s in gaStats + passStats { stats.merge(s) }
    return (stats, samples.value.map { $0! })
}

/// The tensors that may be held in int8 (Int8Selection's candidates' producers are all in g_s).
public let int8HistogramPrefixes = ["g_s."]

/// Runs independent float work items on a few threads, each with single-threaded BLAS.
/// OpenBLAS's sgemm rounds differently with different thread counts (measured: three thread
/// mixes gave three different .s2cq files), so BLAS always runs on one thread here: the float
/// results, and so the calibrated bytes, do not depend on the worker or core count.
struct WorkerPool {
    let workers: Int
    let histogramPrefixes: [String]

    init(workers: Int, histogramPrefixes: [String]) {
        self.workers = workers > 0 ? workers : ProcessInfo.processInfo.activeProcessorCount
        self.histogramPrefixes = histogramPrefixes
    }

    /// Runs body(item, stats) for items 0..<items, each worker with its own statistics
    /// (returned, one per worker that ran).
    func run(items: Int, _ body: @escaping (Int, StatsRecorder) -> Void) -> [ActivationStats] {
        let n = max(1, min(workers, items))
        return withSingleThreadedBLAS { () -> [ActivationStats] in
            run(items: items, workers: n, body)
        }
    }

    private func run(items: Int, workers n: Int, _ body: @escaping (Int, StatsRecorder) -> Void) -> [ActivationStats] {
        let next = SendableBox([Int?]([0]))
        let results = SendableBox([ActivationStats?](repeating: nil, count: n))
        let work = UnsafeSendable(body)
        DispatchQueue.concurrentPerform(iterations: n) { w in
            let rec = StatsRecorder(ActivationStats(histogramPrefixes: histogramPrefixes))
            while let i = next.claim(below: items) { work.value(i, rec) }
            results.set(w, rec.stats)
        }
        return results.value.map { $0! }
    }
}

/// One worker's statistics (a class, so that observer closures can record into it).
final class StatsRecorder {
    var stats: ActivationStats

    init(_ stats: ActivationStats) { self.stats = stats }

    func record(_ name: String, _ t: FloatTensor) { stats.record(name, t) }
}

