// FloatEvaluation.swift: the float model's rate-distortion on a folder of images, measured as
// train/evaluate.py measures it (bpp from the likelihoods, PSNR and MS-SSIM of the 8-bit
// reconstruction), so that integer-vs-float BD-rates need no PyTorch run.
import Foundation
import ImageIO

/// One image at one quality.
public struct FloatRDRow: Sendable, Equatable {
    public var image: String
    public var quality: Double
    /// (-sum log2 of the y and z likelihoods) / pixels.
    public var bpp: Double
    /// PSNR (ImageIO.PSNR) and MS-SSIM (nil where a side is 160 pixels or fewer) of
    /// round(255 clamp(x_hat, 0, 1)) against the input.
    public var psnr: Double
    public var msssim: Double?
}

/// Every PNG of `dir` (name order, at most `maxImages`) at every quality: g_a once per image, then
/// the rest per quality; images on `workers` threads (0: one per core), single-threaded BLAS.
/// `progress(done, total)` counts images.
public func evaluateFloat(_ model: FloatModel, images dir: String, qualities: [Double], maxImages: Int? = nil,
                          workers: Int = 0, progress: @escaping (Int, Int) -> Void = { _, _ in }) throws -> [FloatRDRow] {
    let files: [String]
    do {
        files = Array(try ImageFolder.pngFiles(dir).prefix(maxImages ?? Int.max))
    } catch let e as ImageIOError {
        throw CalibrationError.images(e.description)
    }
    let counter = ProgressCounter(total: files.count, report: progress)
    let perImage = try withSingleThreadedBLAS {
        try parallelMap(files.count, workers: workers) { i -> [FloatRDRow] in
            defer { counter.step() }
            let img = try PNGIO.read(path: (dir as NSString).appendingPathComponent(files[i]))
            let x = FloatTensor(rgb8: img.pixels, width: img.width, height: img.height)
            let y = model.analysis(x.paddedReplicate(multiple: model.config.padMultiple))
            return qualities.map { q in
                let yg = FloatModel.scaled(y, model.gains(quality: Float(q)).gain)
                let zHat = model.prior.quantize(model.hyperAnalysis(yg))
                let ent = model.entropyModel(yGained: yg, psi: model.hyperSynthesis(zHat))
                let bits = FloatModel.bits(ent.yLik) + FloatModel.bits(model.prior.likelihoods(zHat))
                let rec = model.synthesize(yHat: ent.yHat, quality: Float(q))
                    .cropped(height: img.height, width: img.width).rgb8()
                return FloatRDRow(image: files[i], quality: q, bpp: bits / Double(img.width * img.height),
                                  psnr: PSNR.compute(img.pixels, rec),
                                  msssim: MSSSIM.compute(img.pixels, rec, width: img.width, height: img.height, channels: 3))
            }
        }
    }
    return perImage.flatMap { $0 }
}

/// The rows in train/evaluate.py's CSV layout (image, quality, bpp, psnr, ms_ssim; "nan" for no
/// MS-SSIM), then one MEAN row per quality.
public func floatRDCSV(_ rows: [FloatRDRow]) -> String {
    func ms(_ v: Double?) -> String { v.map { String(format: "%.6f", $0) } ?? "nan" }
    var s = "image,quality,bpp,psnr,ms_ssim\n"
    for r in rows { s += "\(r.image)," + String(format: "%g,%.6f,%.4f,", r.quality, r.bpp, r.psnr) + ms(r.msssim) + "\n" }
    for q in Set(rows.map(\.quality)).sorted() {
        let sel = rows.filter { $0.quality == q }
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
        let m = sel.compactMap(\.msssim)
        s += "MEAN," + String(format: "%g,%.6f,%.4f,", q, mean(sel.map(\.bpp)), mean(sel.map(\.psnr)))
            + (m.count == sel.count ? ms(mean(m)) : "nan") + "\n"
    }
    return s
}
