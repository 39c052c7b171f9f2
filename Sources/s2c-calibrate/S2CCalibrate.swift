// s2c-calibrate: the calibrator (float weights -> integer .s2cq), its out-of-sample check, and the float reference tools (roundtrip, bench-float).
import ArgumentParser
import Calibrate
import FixedPoint
import Foundation
import ImageIO
import QuantModel

/// Root command: dispatches to the subcommands; `calibrate` is the default.
@main struct S2CCalibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s2c-calibrate",
        abstract: "Float reference runtime and calibrator of S2C-Hybrid.",
        discussion: """
            roundtrip and bench-float run the float model exported by train/export.py \
            (<name>.safetensors); calibrate writes the integer .s2cq model; compare measures an \
            integer model against its float model on other images. Models are found by name in \
            the model folders (s2c-int --help): each folder of $S2C_MODEL_PATH, ./Weights, the \
            executable's folder, the first Weights/ above the executable.
            """,
        version: S2CVersion.line,
        subcommands: [Calibrate.self, Compare.self, Roundtrip.self, BenchFloat.self],
        defaultSubcommand: Calibrate.self)
}

/// Progress and notes go to stderr; results to stdout.
func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

/// Options naming the float weights file.
struct WeightsOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Float weights (safetensors from train/export.py weights); default: "
                               + "\(ModelSearch.defaultName).safetensors in the model folders.",
                               valueName: "path"))
    var weights: String?

    /// The explicit path, or the default model's weights in the model folders.
    func resolve() throws -> String { try resolveWeights(weights, model: ModelSearch.defaultName) }
}

/// The explicit path, else <model>.safetensors in the model folders.
func resolveWeights(_ weights: String?, model: String) throws -> String {
    if let weights {
        guard FileManager.default.fileExists(atPath: weights) else {
            throw FloatModelError.weightsNotFound(path: weights)
        }
        return weights
    }
    do {
        return try ModelSearch.find(model, ext: ".safetensors")
    } catch let e as ModelSearchError {
        throw ValidationError(e.description)
    }
}

/// Qualities run from 1 to the model's number of levels; `--quality` is checked against the model.
func checkQuality(_ q: Double, _ model: FloatModel) throws {
    guard q >= 1, q <= Double(model.config.qualities) else {
        log("Error: --quality \(q) is outside \(model.config.name)'s range 1...\(model.config.qualities)")
        throw ExitCode(64)      // a bad argument, found once the model is loaded
    }
}

/// Seconds taken by `body`.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

extension S2CCalibrate {
    /// Calibration over a folder of images -> .s2cq (interface only so far).
    struct Calibrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Calibrate the float model into an integer .s2cq model.",
            discussion: """
                Runs the float model on the calibration images at every quality level, records \
                activation ranges, and writes the whole integer codec (g_a, gains, h_a, h_s, the \
                SCCTX entropy networks, g_s, CDF tables): int8 weights, int16 activation scales, \
                lookup tables and requantization multipliers. Prints integer-vs-float measurements \
                per quality and per-layer SQNR tables.
                """)

        @Option(help: ArgumentHelp("Model name (hybrid-lite, hybrid-t); its float weights are <name>.safetensors "
                                   + "in the model folders.", valueName: "name"))
        var model: String = "hybrid-t"
        @Option(help: ArgumentHelp("Float weights file (overrides --model's default path).", valueName: "path"))
        var weights: String?
        @Option(help: ArgumentHelp("Folder of PNG calibration images.", valueName: "dir"))
        var images: String
        @Option(name: .shortAndLong, help: ArgumentHelp("Output model file; default <name>.s2cq next to the float weights.",
                                                        valueName: "path"))
        var output: String?
        @Option(help: ArgumentHelp("Use at most n images (n >= 1), in name order.", valueName: "n"))
        var maxImages: Int?
        @Option(help: ArgumentHelp("Centre-crop each image to at most n x n, n a positive multiple of 64.",
                                   valueName: "n"))
        var crop: Int?
        @Option(name: .customLong("int8-budget"),
                help: ArgumentHelp("Let g_s GEMMs take int8 inputs (faster) where it costs least, while the integer "
                                   + "g_s loses at most this many dB of PSNR against float (measured); default: "
                                   + "int16 everywhere.", valueName: "dB"))
        var int8Budget: Double?

        func validate() throws {
            if let b = int8Budget, !(0...10).contains(b) { throw ValidationError("--int8-budget must be in 0...10 dB, got \(b)") }
            guard !model.isEmpty, model.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw ValidationError("--model must be a config name such as hybrid-t, got '\(model)'")
            }
            try validateImageOptions(images: images, maxImages: maxImages, crop: crop)
            if let output, output.isEmpty { throw ValidationError("-o/--output must not be empty") }
        }

        func run() throws {
            ProcessMemory.keepFreedMemory()
            let wpath = try resolveWeights(weights, model: model)
            let fm = try FloatModel(path: wpath)
            let tensors = try loadImages(images, maxImages: maxImages, crop: crop)
            let qualities = Array(1...fm.config.qualities)
            log("calibrating \(fm.config.name) from \(wpath) on \(tensors.count) images x \(qualities.count) qualities")
            let start = Date()
            let (stats, samples) = try observeCodec(fm, images: tensors, qualities: qualities) { done, total in
                let el = Date().timeIntervalSince(start)
                let eta = el / Double(done) * Double(total - done)
                log(String(format: "  observed %d/%d  elapsed %.0fs  ETA %.0fs", done, total, el, eta))
            }
            var q = LayerQuantizer(stats: stats, writer: ModelFileWriter())
            if let budget = int8Budget {
                // Sensitivity on the first image at the lowest, middle and highest quality.
                let picks = Set([1, (fm.config.qualities + 1) / 2, fm.config.qualities])
                let sel = Array(samples.prefix(qualities.count)).filter { picks.contains($0.quality) }
                let choice = try chooseInt8Inputs(fm, stats: stats, samples: sel, budgetDB: budget) { done, total in
                    if done % 10 == 0 || done == total { log("  int8 sensitivity \(done)/\(total)") }
                }
                q.int8Inputs = Set(choice.chosen)
                print(String(format: "int8 GEMM inputs: %d of %d g_s candidates within %.2f dB (g_s vs float %.2f -> %.2f dB)",
                             choice.chosen.count, choice.cost.count, budget, choice.basePSNR, choice.chosenPSNR))
                for c in choice.cost.sorted(by: { $0.mse < $1.mse }) {
                    print("  " + c.name.padding(toLength: 34, withPad: " ", startingAt: 0)
                          + String(format: " +%.4f MSE", c.mse) + (q.int8Inputs.contains(c.name) ? "  int8" : ""))
                }
            }
            try quantizeCodec(fm, &q)
            let bytes = q.writer.serialize()
            let file = try ModelFile(bytes: bytes)
            let out = output ?? (wpath as NSString).deletingPathExtension + ".s2cq"
            try AtomicFile.write(bytes, to: out)
            for r in q.report { log("  note \(r.name): \(r.detail)") }
            try printFidelity(fm, file, tensors, samples, title: "on the calibration images (in-sample)")
            printLayerReports(fm, file, q.tensorScales, samples, image: tensors[0], int8: q.int8Tensors)
            print("wrote \(out) (\(bytes.count) bytes, fingerprint \(String(file.fingerprint, radix: 16)))")
        }
    }

    /// Out-of-sample fidelity: an existing integer model against its float model on other images.
    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure an integer .s2cq model against its float model on a folder of images.",
            discussion: """
                Runs the float model and the integer networks of the .s2cq file on every image at \
                every quality level and prints, per quality: the integer encoder's y' against the \
                float y' (SQNR), the integer g_s and the whole integer decoder against the float \
                decoder (PSNR of the 8-bit outputs), the share of latent symbols equal to the \
                float model's, and the code lengths. Use images the model was not calibrated on \
                to measure out-of-sample fidelity.
                """)

        @Option(help: ArgumentHelp("Model name; float weights <name>.safetensors and integer model <name>.s2cq "
                                   + "in the model folders.", valueName: "name"))
        var model: String = "hybrid-t"
        @Option(help: ArgumentHelp("Float weights file (overrides --model's default path).", valueName: "path"))
        var weights: String?
        @Option(name: .customLong("int-model"), help: ArgumentHelp("Integer model (overrides --model's default path).",
                                                                   valueName: "path"))
        var intModel: String?
        @Option(help: ArgumentHelp("Folder of PNG images.", valueName: "dir"))
        var images: String
        @Option(help: ArgumentHelp("Use at most n images (n >= 1), in name order.", valueName: "n"))
        var maxImages: Int?
        @Option(help: ArgumentHelp("Centre-crop each image to at most n x n, n a positive multiple of 64.",
                                   valueName: "n"))
        var crop: Int?

        func validate() throws {
            try validateImageOptions(images: images, maxImages: maxImages, crop: crop)
        }

        func run() throws {
            ProcessMemory.keepFreedMemory()
            let fm = try FloatModel(path: try resolveWeights(weights, model: model))
            // An explicit --int-model must exist; otherwise <name>.s2cq in the model folders.
            let ipath: String
            if let intModel {
                guard FileManager.default.fileExists(atPath: intModel) else {
                    throw ValidationError("integer model \(intModel) not found; make one with s2c-calibrate calibrate")
                }
                ipath = intModel
            } else {
                do { ipath = try ModelSearch.find(model) } catch let e as ModelSearchError {
                    throw ValidationError(e.description + "; make one with s2c-calibrate calibrate")
                }
            }
            let file = try ModelFile(bytes: try FileIO.readAll(path: ipath, maxBytes: 1 << 30))
            let tensors = try loadImages(images, maxImages: maxImages, crop: crop)
            let qualities = Array(1...fm.config.qualities)
            log("comparing \(ipath) with its float model on \(tensors.count) images x \(qualities.count) qualities")
            let start = Date()
            let (_, samples) = try observeDecoder(fm, images: tensors, qualities: qualities) { done, total in
                let el = Date().timeIntervalSince(start)
                log(String(format: "  float model %d/%d  elapsed %.0fs  ETA %.0fs", done, total, el,
                           el / Double(done) * Double(total - done)))
            }
            try printFidelity(fm, file, tensors, samples, title: "on \(images) (\(tensors.count) images)")
        }
    }

    /// PNG -> float model -> PNG, with estimated rate and PSNR.
    struct Roundtrip: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the float model on a PNG: estimated bpp (from likelihoods) and PSNR.")

        @Argument(help: ArgumentHelp("Input PNG.", valueName: "image.png")) var image: String
        @OptionGroup var weights: WeightsOptions
        @Option(help: ArgumentHelp("Quality from 1 to the model's number of levels (fractional values interpolate).",
                                   valueName: "q"))
        var quality: Double = 4
        @Option(name: .shortAndLong, help: ArgumentHelp("Write the reconstruction here (PNG).", valueName: "out.png"))
        var output: String?

        func validate() throws {
            if let output, output == image { throw ValidationError("-o/--output must differ from the input") }
        }

        func run() throws {
            ProcessMemory.keepFreedMemory()
            let model = try FloatModel(path: try weights.resolve())
            try checkQuality(quality, model)
            let img = try PNGIO.read(path: image)
            let x = FloatTensor(rgb8: img.pixels, width: img.width, height: img.height)
            let q = Float(quality)
            var encoded: FloatEncoding?
            let tEnc = try seconds { encoded = try model.encode(image: x, quality: q) }
            guard let enc = encoded else { return }
            var xHat = FloatTensor(channels: 0, height: 0, width: 0)
            let tDec = seconds { xHat = model.synthesize(yHat: enc.yHat, quality: q) }
            // Same as the codec's output: crop, clamp to [0, 1], v = round(255 x).
            let rec = xHat.cropped(height: img.height, width: img.width).rgb8()
            let psnr = FloatModel.psnr(rec, img.pixels)
            print("\(image): \(img.width)x\(img.height), model \(model.config.name), quality \(quality)")
            print(String(format: "bpp %.6f (estimated from likelihoods: y %.0f bits, z %.0f bits)",
                         enc.bitsPerPixel, FloatModel.bits(enc.yLik), FloatModel.bits(enc.zLik)))
            print(String(format: "PSNR %.4f dB (8-bit RGB)", psnr))
            print(String(format: "time: encode %.2f s, decode %.2f s", tEnc, tDec))
            if let output {
                try PNGIO.write(RGBImage(width: img.width, height: img.height, pixels: rec), to: output, notOver: image)
                print("wrote \(output)")
            }
        }
    }

    /// Wall time of g_a, the entropy side and g_s on a random image.
    struct BenchFloat: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench-float",
            abstract: "Time the float model's g_a, entropy model and g_s (median of several runs).")

        @OptionGroup var weights: WeightsOptions
        @Option(help: ArgumentHelp("Image width (padded to a multiple of 64).", valueName: "w")) var width = 768
        @Option(help: ArgumentHelp("Image height (padded to a multiple of 64).", valueName: "h")) var height = 512
        @Option(help: ArgumentHelp("Timed runs (the median is printed).", valueName: "n")) var runs = 3
        @Option(help: ArgumentHelp("Quality from 1 to the model's number of levels.", valueName: "q"))
        var quality: Double = 4

        func validate() throws {
            guard (1...16384).contains(width), (1...16384).contains(height) else {
                throw ValidationError("--width and --height must be in 1...16384")
            }
            guard (1...100).contains(runs) else { throw ValidationError("--runs must be in 1...100") }
        }

        func run() throws {
            ProcessMemory.keepFreedMemory()
            let model = try FloatModel(path: try weights.resolve())
            try checkQuality(quality, model)
            var rng = SplitMix64(seed: 20261125)
            let px = (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next() >> 56) }
            let x = FloatTensor(rgb8: px, width: width, height: height).paddedReplicate(multiple: 64)
            let q = Float(quality)
            let gain = model.gains(quality: q).gain
            var times: [[Double]] = []
            print("model \(model.config.name), \(width)x\(height) (padded \(x.width)x\(x.height)), \(runs) runs")
            for r in 0..<runs {
                var y = x, psi = x, yHat = x
                let ta = seconds { y = model.analysis(x) }
                var yg = y
                for c in 0..<yg.channels {
                    for i in (c * yg.plane)..<((c + 1) * yg.plane) { yg.data[i] *= gain[c] }
                }
                let th = seconds {
                    let zHat = model.prior.quantize(model.hyperAnalysis(yg))
                    _ = model.prior.likelihoods(zHat)
                    psi = model.hyperSynthesis(zHat)
                }
                let te = seconds { yHat = model.entropyModel(yGained: yg, psi: psi).yHat }
                let ts = seconds { _ = model.synthesize(yHat: yHat, quality: q) }
                times.append([ta, th, te, ts])
                print(String(format: "run %d: g_a %.3f s, h_a+prior+h_s %.3f s, SCCTX %.3f s, g_s %.3f s",
                             r + 1, ta, th, te, ts))
            }
            func median(_ i: Int) -> Double {
                let s = times.map { $0[i] }.sorted()
                return s[s.count / 2]
            }
            print(String(format: "median: g_a %.3f s, h_a+prior+h_s %.3f s, SCCTX %.3f s, g_s %.3f s, total %.3f s",
                         median(0), median(1), median(2), median(3), (0..<4).map(median).reduce(0, +)))
        }
    }
}

/// Small deterministic generator for benchmark inputs (SplitMix64).
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

// MARK: - Shared by calibrate and compare

func validateImageOptions(images: String, maxImages: Int?, crop: Int?) throws {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: images, isDirectory: &isDir), isDir.boolValue else {
        throw ValidationError("--images: '\(images)' is not a folder")
    }
    if let maxImages, maxImages < 1 { throw ValidationError("--max-images must be >= 1, got \(maxImages)") }
    if let crop, crop < 64 || crop % 64 != 0 {
        throw ValidationError("--crop must be a positive multiple of 64, got \(crop)")
    }
}

/// The PNG files of a folder in name order (at most maxImages), centre-cropped when asked.
func loadImages(_ dir: String, maxImages: Int?, crop: Int?) throws -> [FloatTensor] {
    let files = try FileManager.default.contentsOfDirectory(atPath: dir)
        .filter { $0.lowercased().hasSuffix(".png") }.sorted()
    let chosen = Array(files.prefix(maxImages ?? files.count))
    guard !chosen.isEmpty else { throw ValidationError("--images: no PNG files in '\(dir)'") }
    return try chosen.map { f in
        let img = try PNGIO.read(path: (dir as NSString).appendingPathComponent(f))
        let t = FloatTensor(rgb8: img.pixels, width: img.width, height: img.height)
        return crop.map { t.centreCrop(side: $0) } ?? t
    }
}

/// The integer codec against the float model, per quality level, averaged over the samples.
func printFidelity(_ fm: FloatModel, _ file: ModelFile, _ images: [FloatTensor], _ samples: [SynthesisSample],
                   title: String) throws {
    let kn = Kernels.best()
    let qualities = Array(1...fm.config.qualities)
    let syn = try IntSynthesis(file)
    let res = compareSynthesis(syn, samples, kn)
    let dec = try compareDecoder(file, samples, fm, kn)
    let enc = try compareEncoder(file, images: images, samples: samples, qualitiesPerImage: qualities.count,
                                 padMultiple: fm.config.padMultiple, kn)
    print("integer codec vs float model \(title):")
    print("  quality | y' SQNR  | g_s PSNR | decoder PSNR | symbols equal | y bits int / float sigmas, int tables / float likelihoods")
    for level in qualities {
        let idx = samples.indices.filter { samples[$0].quality == level }
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(v.count, 1)) }
        let d = idx.map { dec[$0] }
        print(String(format: "  %7d | %5.2f dB | %5.2f dB | %9.2f dB | %12.2f%% | %.0f / %.0f / %.0f%@", level,
                     mean(idx.map { enc[$0] }), mean(idx.map { res[$0].psnr }), mean(d.map(\.psnr)),
                     100 * mean(d.map(\.symbolAgreement)), mean(d.map(\.integerBits)),
                     mean(d.map(\.floatTableBits)), mean(d.map(\.floatLikelihoodBits)),
                     d.allSatisfy(\.symmetric) ? "" : "  DECODER DIVERGED"))
    }
}

/// Per-layer bits and SQNR of the integer networks against the float ones (g_s, h_s + SCCTX on
/// the first calibration image at the middle quality, g_a on the first image); the 5 worst
/// layers of each part are marked.
func printLayerReports(_ fm: FloatModel, _ file: ModelFile, _ scales: [String: Double],
                       _ samples: [SynthesisSample], image: FloatTensor, int8: Set<String> = []) {
    let mid = (fm.config.qualities + 1) / 2
    guard let s = samples.first(where: { $0.quality == mid }) else { return }
    printLayerTable("g_s (synthesis)", layerReport(model: fm, file: file, scales: scales, sample: s, int8: int8), quality: mid)
    printLayerTable("h_s and SCCTX (entropy parameters; SCCTX networks as first run: anchor pass)",
                    entropyLayerReport(model: fm, file: file, scales: scales, sample: s), quality: mid)
    printLayerTable("g_a (analysis)", analysisLayerReport(model: fm, file: file, scales: scales, image: image), quality: nil)
}

func printLayerTable(_ title: String, _ rows: [LayerSQNR], quality: Int?) {
    // The same tensor under a second name (Up = its conv shuffled, spatial = pw2 / proj,
    // ffn = fc2, cc.k = cc.k.out, pa.k = pa.k.out) is listed but not ranked twice.
    let names = Set(rows.map(\.name))
    let ranked = rows.filter { r in
        !(names.contains(r.name + ".0") || names.contains(r.name + ".out") || r.name.hasSuffix(".ffn")
          || r.name.hasSuffix(".spatial"))
    }.sorted { $0.sqnr < $1.sqnr }.prefix(5)
    let worst = Set(ranked.map(\.name))
    func pad(_ t: String, _ n: Int) -> String { t.count >= n ? t : t + String(repeating: " ", count: n - t.count) }
    print("integer \(title) per layer vs float (first calibration image" + (quality.map { ", quality \($0)" } ?? "") + "):")
    print("  \(pad("layer", 34)) | \(pad("bits", 6)) | SQNR")
    for r in rows {
        let bits = (r.weightBits.map { "w\($0) " } ?? "") + "a\(r.activationBits)"
        print("  \(pad(r.name, 34)) | \(pad(bits, 6)) | " + String(format: "%6.2f dB", r.sqnr)
              + (worst.contains(r.name) ? "  <- worst 5" : ""))
    }
    print("  worst 5: " + ranked.map { "\($0.name) " + String(format: "%.2f dB", $0.sqnr) }.joined(separator: ", "))
}
