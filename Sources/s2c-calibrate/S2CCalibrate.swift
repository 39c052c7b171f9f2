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
            roundtrip, eval-float and bench-float run the float model exported by \
            train/export.py (<name>.safetensors); calibrate writes the integer .s2cq model; compare \
            measures an integer model against its float model on other images. Models are found by name in \
            the model folders (s2c-int --help): each folder of $S2C_MODEL_PATH, ./Weights, the \
            executable's folder, the first Weights/ above the executable.
            """,
        version: S2CVersion.line,
        subcommands: [Calibrate.self, Compare.self, EvalFloat.self, Roundtrip.self, BenchFloat.self],
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
    /// Calibration over a folder of images -> .s2cq.
    struct Calibrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Calibrate the float model into an integer .s2cq model.",
            discussion: """
                Runs the float model on the calibration images (g_a once per image, the rest at \
                every quality level), records activation ranges, and writes the whole integer \
                codec (g_a, gains, h_a, h_s, the SCCTX entropy networks, g_s, CDF tables): int8 \
                weights, int16 activation scales, lookup tables and requantization multipliers. \
                Prints integer-vs-float measurements per quality and per-layer SQNR tables. By \
                default each image contributes its \(defaultCrop) x \(defaultCrop) window with the \
                most detail (--crop 0: whole images). The same inputs give the same bytes, for \
                any --threads. Progress and an ETA for each phase go to stderr.
                """)

        @Option(help: ArgumentHelp("Model name (hybrid-lite, hybrid-t); its float weights are <name>.safetensors "
                                   + "in the model folders.", valueName: "name"))
        var model: String = ModelSearch.defaultName
        @Option(help: ArgumentHelp("Float weights file (overrides --model's default path).", valueName: "path"))
        var weights: String?
        @Option(help: ArgumentHelp("Folder of PNG calibration images.", valueName: "dir"))
        var images: String
        @Option(name: .shortAndLong, help: ArgumentHelp("Output model file; default <name>.s2cq next to the float weights.",
                                                        valueName: "path"))
        var output: String?
        @OptionGroup var input: ImageOptions
        @Option(help: ArgumentHelp("Use each image's n x n window with the most detail (n a multiple of 64; "
                                   + "0: whole images, several times slower).", valueName: "n"))
        var crop: Int = defaultCrop
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
            try validateImageFolder(images)
            try validateCrop(crop)
            if let output, output.isEmpty { throw ValidationError("-o/--output must not be empty") }
        }

        func run() throws {
            ProcessMemory.keepFreedMemory()
            let wpath = try resolveWeights(weights, model: model)
            let fm = try FloatModel(path: wpath)
            let tensors = try input.load(images, crop: crop)
            let qualities = Array(1...fm.config.qualities)
            log("calibrating \(fm.config.name) from \(wpath) on \(tensors.count) images (\(cropText(crop))) x "
                + "\(qualities.count) qualities")
            let started = Date()
            let (stats, samples) = try observeCodec(fm, images: tensors, qualities: qualities,
                                                    histogramPrefixes: int8Budget == nil ? [] : int8HistogramPrefixes,
                                                    workers: input.threads ?? 0,
                                                    progress: PhaseProgress("float passes", unit: "(g_a per image, "
                                                                            + "then h_a ... g_s per image and quality)").update)
            var q = LayerQuantizer(stats: stats, writer: ModelFileWriter())
            q.weights.prepare(fm, progress: PhaseProgress("quantizing weights", unit: "convolutions").update)
            if let budget = int8Budget {
                // Sensitivity on the first image at the lowest, middle and highest quality.
                let picks = Set([1, (fm.config.qualities + 1) / 2, fm.config.qualities])
                let sel = Array(samples.prefix(qualities.count)).filter { picks.contains($0.quality) }
                let choice = try chooseInt8Inputs(fm, stats: stats, samples: sel, budgetDB: budget, weights: q.weights,
                                                  progress: PhaseProgress("int8 sensitivity", unit: "g_s candidates").update)
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
            log("  wrote \(out) after " + String(format: "%.0f s", Date().timeIntervalSince(started)))
            for r in q.report { log("  note \(r.name): \(r.detail)") }
            print(try fidelityReport(fm, file, images: tensors, samples: samples, title: "on the calibration images (in-sample)",
                                     workers: input.threads ?? 0, progress: PhaseProgress("fidelity report", unit: "integer runs").update), terminator: "")
            print(layerReports(fm, file, scales: q.tensorScales, samples: samples, image: tensors[0], int8: q.int8Tensors,
                               progress: PhaseProgress("per-layer reports", unit: "networks").update), terminator: "")
            print("wrote \(out) (\(bytes.count) bytes, fingerprint \(String(file.fingerprint, radix: 16)))")
            log("  total " + String(format: "%.0f s", Date().timeIntervalSince(started)))
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
                to measure out-of-sample fidelity. Whole images by default.
                """)

        @Option(help: ArgumentHelp("Model name; float weights <name>.safetensors and integer model <name>.s2cq "
                                   + "in the model folders.", valueName: "name"))
        var model: String = ModelSearch.defaultName
        @Option(help: ArgumentHelp("Float weights file (overrides --model's default path).", valueName: "path"))
        var weights: String?
        @Option(name: .customLong("int-model"), help: ArgumentHelp("Integer model (overrides --model's default path).",
                                                                   valueName: "path"))
        var intModel: String?
        @Option(help: ArgumentHelp("Folder of PNG images.", valueName: "dir"))
        var images: String
        @OptionGroup var input: ImageOptions
        @Option(help: ArgumentHelp("Use each image's n x n window with the most detail, as calibrate does "
                                   + "(n a multiple of 64; 0: whole images).", valueName: "n"))
        var crop: Int = 0

        func validate() throws {
            try validateImageFolder(images)
            try validateCrop(crop)
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
            let tensors = try input.load(images, crop: crop)
            let qualities = Array(1...fm.config.qualities)
            log("comparing \(ipath) with its float model on \(tensors.count) images (\(cropText(crop))) x "
                + "\(qualities.count) qualities")
            let (_, samples) = try observeCodec(fm, images: tensors, qualities: qualities, statistics: false,
                                                workers: input.threads ?? 0,
                                                progress: PhaseProgress("float passes", unit: "(g_a per image, "
                                                                        + "then h_a ... g_s per image and quality)").update)
            print(try fidelityReport(fm, file, images: tensors, samples: samples,
                                     title: "on \(images) (\(tensors.count) images, \(cropText(crop)))",
                                     workers: input.threads ?? 0, progress: PhaseProgress("fidelity report", unit: "integer runs").update), terminator: "")
        }
    }

    /// The float model's rate-distortion on a folder (train/evaluate.py's measurement, in Swift).
    struct EvalFloat: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "eval-float",
            abstract: "Float model's bits per pixel (from likelihoods), PSNR and MS-SSIM on every PNG of a folder.",
            discussion: """
                Measures what train/evaluate.py measures, with the Swift float runtime: per image \
                (name order) and quality, bpp from the y and z likelihoods and PSNR / MS-SSIM of \
                the 8-bit reconstruction against the input. -o writes evaluate.py's CSV layout \
                (train/results.py --float reads it, e.g. against s2c-int eval --json); the means \
                per quality go to stdout.
                """)

        @Option(help: ArgumentHelp("Model name; its float weights are <name>.safetensors in the model folders.",
                                   valueName: "name"))
        var model: String = ModelSearch.defaultName
        @Option(help: ArgumentHelp("Float weights file (overrides --model's default path).", valueName: "path"))
        var weights: String?
        @Option(help: ArgumentHelp("Folder of PNG images.", valueName: "dir"))
        var images: String
        @Option(help: ArgumentHelp("Comma-separated qualities from 1 to the model's number of levels; default: "
                                   + "every level.", valueName: "list"))
        var quality: String?
        @OptionGroup var input: ImageOptions
        @Option(name: .shortAndLong, help: ArgumentHelp("Write the per-image CSV here.", valueName: "out.csv"))
        var output: String?

        func validate() throws {
            try validateImageFolder(images)
            if let quality { _ = try parseQualityList(quality) }
        }

        func run() throws {
            ProcessMemory.keepFreedMemory()
            let fm = try FloatModel(path: try resolveWeights(weights, model: model))
            let qualities = try quality.map(parseQualityList) ?? (1...fm.config.qualities).map(Double.init)
            for q in qualities { try checkQuality(q, fm) }
            let rows = try evaluateFloat(fm, images: images, qualities: qualities, maxImages: input.maxImages,
                                         workers: input.threads ?? 0,
                                         progress: PhaseProgress("float model", unit: "images").update)
            let csv = floatRDCSV(rows)
            if let output { try AtomicFile.write(Array(csv.utf8), to: output) }
            print("quality,bpp,psnr,ms_ssim")
            for line in csv.split(separator: "\n") where line.hasPrefix("MEAN,") { print(line.dropFirst(5)) }
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
            let psnr = PSNR.compute(rec, img.pixels)
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

/// The default crop side of calibrate and compare.
let defaultCrop = 256

/// How many images calibrate and compare read, and how many float passes run at once.
struct ImageOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Use at most n images (n >= 1), in name order.", valueName: "n"))
    var maxImages: Int?
    @Option(help: ArgumentHelp("Float passes and integer report runs at once (default: one per core); the results "
                               + "do not depend on it.", valueName: "n"))
    var threads: Int?

    func validate() throws {
        if let maxImages, maxImages < 1 { throw ValidationError("--max-images must be >= 1, got \(maxImages)") }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be in 1...256, got \(threads)") }
    }

    /// The images of `dir` as float tensors, cropped to `crop` (0: whole).
    func load(_ dir: String, crop: Int) throws -> [FloatTensor] {
        do {
            return try loadCalibrationImages(dir, maxImages: maxImages, crop: crop == 0 ? .whole : .detail(side: crop))
        } catch let e as CalibrationError {
            throw ValidationError("--images: \(e)")
        }
    }
}

/// "1,2.5,7" -> qualities, each >= 1 (the model's upper end is checked once it is loaded).
func parseQualityList(_ list: String) throws -> [Double] {
    try list.split(separator: ",", omittingEmptySubsequences: false).map { item in
        guard let q = Double(item.trimmingCharacters(in: .whitespaces)), q >= 1, q.isFinite else {
            throw ValidationError("--quality: '\(item)' is not a quality >= 1")
        }
        return q
    }
}

/// The --crop check of calibrate and compare.
func validateCrop(_ crop: Int) throws {
    if crop < 0 || crop % 64 != 0 {
        throw ValidationError("--crop must be 0 (whole images) or a positive multiple of 64, got \(crop)")
    }
}

/// How a --crop value reads in the tools' logs.
func cropText(_ crop: Int) -> String { crop == 0 ? "whole" : "\(crop) x \(crop) windows with the most detail" }

func validateImageFolder(_ images: String) throws {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: images, isDirectory: &isDir), isDir.boolValue else {
        throw ValidationError("--images: '\(images)' is not a folder")
    }
}
