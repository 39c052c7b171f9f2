// s2c-int: command-line front end of the integer codec (encode, decode, info, eval).
//
// File I/O, PNG and timing live here; the codec itself (QuantModel) has no I/O and no float.
import ArgumentParser
import FixedPoint
import Foundation
import Evaluation
import ImageIO
import QuantModel
#if canImport(Glibc)
import Glibc
#endif

/// Root command: dispatches to the subcommands.
@main struct S2CInt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s2c-int",
        abstract: "Deterministic integer-only learned image codec (S2C-Hybrid).",
        discussion: """
            Decoding is bit-exact on every platform, CPU path and thread count: the decoder runs \
            integer arithmetic only. Input images are 8-bit PNG (RGB, gray, palette or opaque \
            RGBA); gray images decode to gray.

            Models: --model takes a name (hybrid-lite, hybrid-t: <name>.s2cq in the model \
            folders) or a .s2cq path; $S2C_MODEL does the same. Without either, encode uses \
            \(ModelSearch.defaultName) and decode finds the installed model whose fingerprint the \
            bitstream carries. Model folders, in order: each folder of $S2C_MODEL_PATH \
            (colon-separated), ./Weights, the executable's folder, the first Weights/ above the \
            executable.
            """,
        version: S2CVersion.line,
        subcommands: [Encode.self, Decode.self, Info.self, Eval.self])
}

/// A refused input file: its name and the reason, as one line.
struct InputError: Error, CustomStringConvertible {
    var name: String
    var message: String
    var description: String { "'\(name)': \(message)" }
}

/// Parses a bitstream, naming the file ('<stdin>' for '-') in the error.
func parseBitstream(_ bytes: [UInt8], name: String) throws -> Bitstream {
    do {
        return try Bitstream(bytes: bytes)
    } catch {
        throw InputError(name: name == "-" ? "<stdin>" : name, message: error.message)
    }
}

/// A problem with the model file, as one line.
struct ModelError: Error, CustomStringConvertible {
    var description: String
}

/// Options every compute-heavy subcommand shares.
struct RuntimeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Model name (hybrid-lite, hybrid-t) or .s2cq path; default: $S2C_MODEL, else "
                               + "for decoding the installed model the bitstream was made with, for encoding "
                               + "\(ModelSearch.defaultName).", valueName: "name|path"))
    var model: String?

    @Option(help: ArgumentHelp("Worker threads, 1...1024 (the output never depends on it).", valueName: "n"))
    var threads: Int?

    @Option(help: ArgumentHelp("CPU feature mask forcing lower kernel paths, decimal or 0x-hex; "
                               + "0 = plain C (same as S2C_CPU_MASK).", valueName: "mask"))
    var cpu: String?

    /// Loads the model (see the root command's discussion for the search order) and applies
    /// --threads and --cpu. `decodeOnly` skips the encoder's networks (less memory); `stream`
    /// (decoding) is the bitstream's model fingerprint, used when no model is named.
    /// The model file's checksum is verified on another thread while the codec runs: call the
    /// returned check's `verify()` before writing any output.
    func load(decodeOnly: Bool = false, stream: UInt64? = nil) throws -> (IntCodec, Kernels, ModelChecksum) {
        ProcessMemory.keepFreedMemory()
        if let threads { s2c_set_threads(Int32(threads)) }
        if let cpu, let m = parseMask(cpu) { s2c_set_cpu_mask(m) }
        let path = try modelPath(stream: stream)
        let bytes = try FileIO.readAll(path: path, maxBytes: 1 << 30)
        do {
            try ModelFile.validateHeader(bytes)     // what a checked load refuses before the checksum
        } catch {
            throw ModelError(description: "model '\(path)': \(error.message)")
        }
        let check = ModelChecksum(bytes, path: path)
        do {
            let model = try ModelFile(bytes: bytes, verifyChecksum: false)
            return (try IntCodec(model: model, decodeOnly: decodeOnly), Kernels.best(), check)
        } catch {
            try check.verify()                      // a damaged file says so first, as a checked load does
            throw ModelError(description: "model '\(path)': \(error.message)")
        }
    }

    func modelPath(stream: UInt64?) throws -> String {
        let env = ProcessInfo.processInfo.environment["S2C_MODEL"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            if let named = model ?? env { return try ModelSearch.find(named) }
            if let fp = stream {
                if let p = ModelSearch.find(fingerprint: fp) { return p }
                throw ModelError(description: "the bitstream was made with model \(hex64(fp)), which is not installed: "
                                 + "no .s2cq with that fingerprint in \(ModelSearch.foldersText()); pass --model PATH")
            }
            return try ModelSearch.find(ModelSearch.defaultName)
        } catch let e as ModelSearchError {
            throw ModelError(description: e.description)
        }
    }

    func validate() throws {
        if let model, ModelSearch.isPath(model) { try requireReadable(model, what: "model") }
        if let threads, !(1...1024).contains(threads) {
            throw ValidationError("--threads must be in 1...1024, got \(threads)")
        }
        if let cpu, parseMask(cpu) == nil {
            throw ValidationError("--cpu expects a 32-bit mask such as 0x1f or 31, got '\(cpu)'")
        }
    }
}

/// Qualities run from 1 to the model's number of levels (7 for the shipped models); the lower
/// end is checked when parsing, the upper one once the model is loaded.
func checkQuality(_ q: Double, _ codec: IntCodec) throws {
    guard q <= Double(codec.config.qualities) else {
        throw usageError("--quality \(q) is outside the model's range 1...\(codec.config.qualities)")
    }
}

/// A bad argument found after parsing (e.g. against the loaded model): the message on stderr and
/// exit status 64, as ArgumentParser's own validation errors.
func usageError(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
    return ExitCode(64)
}

/// Quality help text, one copy.
let qualityHelp = "from 1 to the model's number of levels (7 for hybrid-lite and hybrid-t)"

extension S2CInt {
    /// PNG -> .s2c bitstream.
    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Compress a PNG image into an .s2c bitstream.")

        @Argument(help: ArgumentHelp("Input PNG ('-' for stdin).", valueName: "in.png")) var input: String
        @Option(name: .shortAndLong, help: ArgumentHelp("Output bitstream ('-' for stdout).", valueName: "out.s2c"))
        var output: String
        @Option(help: ArgumentHelp("Quality \(qualityHelp); fractional values in steps of 1/8; higher is better and larger.", valueName: "q"))
        var quality: Double = 4
        @OptionGroup var tiling: TileOptions
        @OptionGroup var runtime: RuntimeOptions

        func validate() throws {
            guard quality >= 1, quality.isFinite else {
                throw ValidationError("--quality must be \(qualityHelp), got \(quality)")
            }
            try requireDistinct(input: input, output: output)
        }

        func run() throws {
            let img = try input == "-" ? PNGIO.read(data: FileIO.readAll(path: "-"), name: "<stdin>")
                                       : PNGIO.read(path: input)
            let (codec, kn, check) = try runtime.load()
            do { try checkQuality(quality, codec) } catch { try check.verify(); throw error }
            let q256 = Int((quality * 256).rounded())
            let meter = TileProgress(verb: "encoding", stepsPerTile: 2)
            let bs: Bitstream
            do {
                defer { meter.finish() }     // also when encoding fails: the error starts a clean line
                bs = try codec.encodeStream(rgb: img.pixels, width: img.width, height: img.height,
                                            color: img.isGrayscale ? .gray : .rgb, quality256: q256,
                                            maxTile: tiling.tile, kn, progress: meter.update)
            } catch {
                try check.verify()
                throw error
            }
            let bytes = bs.serialize()
            try check.verify()
            try AtomicFile.write(bytes, to: output, notOver: input)
            if output != "-" {
                let h = bs.header
                let tiles = h.tileCount == 1 ? "" : ", \(h.tileColumns)x\(h.tileRows) tiles of \(h.tileWidth)x\(h.tileHeight)"
                FileHandle.standardError.write(Data(String(format: "%@: %dx%d%@, quality %@, %d bytes, %.4f bpp\n",
                    output, img.width, img.height, tiles, h.qualityText, bytes.count,
                    8 * Double(bytes.count) / Double(img.width * img.height)).utf8))
            }
        }
    }

    /// .s2c bitstream -> PNG.
    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Decode an .s2c bitstream into a PNG image.")

        @Argument(help: ArgumentHelp("Input bitstream ('-' for stdin).", valueName: "in.s2c")) var input: String
        @Option(name: .shortAndLong, help: ArgumentHelp("Output PNG ('-' for stdout).", valueName: "out.png"))
        var output: String
        @OptionGroup var runtime: RuntimeOptions

        func validate() throws { try requireDistinct(input: input, output: output) }

        func run() throws {
            let bytes = try FileIO.readAll(path: input, maxBytes: Bitstream.maxSize)
            let bs = try parseBitstream(bytes, name: input)
            let (codec, kn, check) = try runtime.load(decodeOnly: true, stream: bs.header.fingerprint)
            let img: DecodedImage
            let meter = TileProgress(verb: "decoding", stepsPerTile: 1)
            defer { meter.finish() }
            do {
                img = try codec.decode(bs, kn, progress: meter.update)
            } catch {
                try check.verify()          // a damaged model, not the stream, is then the error
                throw InputError(name: input == "-" ? "<stdin>" : input, message: error.message)
            }
            let gray = img.color == .gray
            let px = gray ? img.pixels.flatMap { [$0, $0, $0] } : img.pixels
            let rgb = RGBImage(width: img.width, height: img.height, isGrayscale: gray, pixels: px)
            let png = try PNGIO.encode(rgb, parallel: ompParallel)
            try check.verify()
            try AtomicFile.write(png, to: output, notOver: input)
        }
    }

    /// Header dump of a bitstream.
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an .s2c bitstream's header: size, quality, model fingerprint, stream lengths.")

        @Argument(help: ArgumentHelp("Input bitstream ('-' for stdin).", valueName: "in.s2c")) var input: String
        @Flag(help: "Print the header as one JSON object instead of text.") var json = false

        func validate() throws { if input != "-" { try requireReadable(input, what: "input") } }

        /// Reads and fully validates the bitstream (header and payload CRCs); needs no model.
        func run() throws {
            let bytes = try FileIO.readAll(path: input, maxBytes: Bitstream.maxSize)
            let header = try parseBitstream(bytes, name: input).header
            print(json ? header.infoJSON(fileSize: bytes.count) : header.infoText(fileSize: bytes.count),
                  terminator: "")
        }
    }

    /// Rate-distortion evaluation over a folder of PNGs.
    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encode and decode every PNG in a folder; report bits per pixel, PSNR and MS-SSIM per quality.",
            discussion: """
                Per image (in name order) and quality: bits per pixel of the real .s2c file \
                (header, rANS streams and CRCs counted), PSNR (capped at 99 dB, the value for \
                identical images) and MS-SSIM (n/a for sides of 160 pixels or fewer) of the \
                decoded image against the input, and encode and decode times (g_a runs once per \
                image; an image's encode time counts it at every quality). Every decode is checked \
                equal to the encoder's reconstruction; a difference stops with an error. Then the \
                mean per quality. Progress on stderr.
                """)

        @Option(help: ArgumentHelp("Folder of PNG images (e.g. the Kodak set).", valueName: "dir")) var images: String
        @Option(help: ArgumentHelp("Comma-separated qualities \(qualityHelp).", valueName: "list"))
        var quality: String = "1,2,3,4,5,6,7"
        @Flag(help: "Print results as JSON instead of a table.") var json = false
        @OptionGroup var tiling: TileOptions
        @OptionGroup var runtime: RuntimeOptions

        func validate() throws {
            var st = stat()
            guard stat(images, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
                throw ValidationError("--images: '\(images)' is not a folder")
            }
            do { _ = try ImageFolder.pngFiles(images) } catch { throw ValidationError("--images: \(error)") }
            _ = try parseQualities(quality)
        }

        func run() throws {
            let qualities = try parseQualities(quality)
            let (codec, kn, check) = try runtime.load()
            try check.verify()
            for q in qualities { try checkQuality(q, codec) }
            let rows = try Evaluation.evaluateFolder(images, codec, kn, qualities: qualities, maxTile: tiling.tile) { r, i, n in
                FileHandle.standardError.write(Data(String(format: "[%d/%d] %@ q%.3g: %.4f bpp %.2f dB\n", i + 1, n,
                                                           r.image, r.quality, r.bpp, r.psnr).utf8))
            }
            print(json ? Evaluation.json(rows) : Evaluation.table(rows, qualities: qualities), terminator: "")
        }
    }
}

/// A model file's FNV-1a checksum, computed on a thread of its own from construction on. The
/// hash is serial (~20 ms for hybrid-lite's 16 MB, ~90 ms for hybrid-t's 69 MB), so s2c-int
/// parses the model without it and overlaps it with the codec's work; `verify()` waits for it
/// and throws the error a checked load would have thrown. Nothing is written before it passes.
final class ModelChecksum: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var matches = false         // written by the hashing thread before `done` is signalled
    private let path: String

    init(_ bytes: [UInt8], path: String) {
        self.path = path
        s2c_side_thread(1)              // the kernels leave it a core while it hashes
        Thread.detachNewThread { [self] in
            matches = ModelFile.checksumMatches(bytes)
            s2c_side_thread(-1)
            done.signal()
        }
    }

    func verify() throws {
        done.wait()
        done.signal()                   // a second verify() does not block
        guard matches else {
            throw ModelError(description: "model '\(path)': \(ModelFileError.checksumMismatch.message)")
        }
    }
}

/// PNGIO's parallel loop on the kernels' OpenMP threads.
func ompParallel(_ n: Int, _ body: (Int) -> Void) {
    withoutActuallyEscaping(body) { body in
        var b = body
        withUnsafeMutablePointer(to: &b) { p in
            s2c_parallel_tasks(Int32(n), { ctx, i in
                ctx!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(i))
            }, p)
        }
    }
}

/// The encoder's tile size (encode, eval).
struct TileOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Largest tile side in pixels (a multiple of 64 in 64...\(IntCodec.maxTileLimit)). Larger images are coded as a grid "
            + "of independent tiles: the decoder's memory grows with the tile, not the image (about 0.5 GB at 1024 with "
            + "hybrid-t). Larger tiles code tile borders less often (slightly fewer bits).",
        valueName: "pixels"))
    var tile: Int = IntCodec.defaultMaxTile

    func validate() throws {
        guard tile >= 64, tile <= IntCodec.maxTileLimit, tile % 64 == 0 else {
            throw ValidationError("--tile must be a multiple of 64 in 64...\(IntCodec.maxTileLimit), got \(tile)")
        }
    }
}

// MARK: - Argument checks

/// Parses "1,2.5,7" into qualities, each >= 1 (the model's upper end is checked once it is loaded).
func parseQualities(_ list: String) throws -> [Double] {
    try list.split(separator: ",", omittingEmptySubsequences: false).map { item in
        let text = String(item.filter { $0 != " " })
        guard let q = Double(text), q >= 1, q.isFinite else {
            throw ValidationError("--quality: '\(text)' is not a number \(qualityHelp)")
        }
        return q
    }
}

/// Parses a CPU mask given in decimal or 0x-hex with the kernels' own parser (the one
/// S2C_CPU_MASK goes through): nil when malformed or wider than the 32-bit mask.
func parseMask(_ text: String) -> UInt32? {
    var m: UInt32 = 0
    return s2c_cpu_parse_mask(text, &m) == 0 ? m : nil
}

/// Fails unless `path` is an existing readable regular file.
func requireReadable(_ path: String, what: String) throws {
    var st = stat()
    guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(path, R_OK) == 0 else {
        throw ValidationError("\(what) '\(path)' is not a readable file")
    }
}

/// Checks the input exists and the output would not overwrite it.
/// Progress of a tiled encode or decode on stderr, as one line rewritten in place; only when
/// stderr is a terminal and the image has more than one tile (one tile is a few seconds).
final class TileProgress {
    let verb: String
    /// Progress steps per tile: 2 for encoding (analysis, entropy coding), 1 for decoding.
    let stepsPerTile: Int
    let enabled = isatty(STDERR_FILENO) != 0
    var shown = false

    init(verb: String, stepsPerTile: Int) {
        self.verb = verb
        self.stepsPerTile = stepsPerTile
    }

    func update(_ done: Int, _ total: Int) {
        let tiles = total / stepsPerTile
        guard enabled, tiles > 1 else { return }
        FileHandle.standardError.write(Data("\r\(verb) \(tiles) tiles: \(100 * done / total)%".utf8))
        shown = true
    }

    func finish() {
        if shown { FileHandle.standardError.write(Data("\r\u{1b}[K".utf8)) }
        shown = false
    }
}

func requireDistinct(input: String, output: String) throws {
    if input != "-" { try requireReadable(input, what: "input") }
    if input != "-", output != "-", input == output || AtomicFile.isSameFile(input, output) {
        throw ValidationError("output '\(output)' is the input file; choose another name")
    }
}
