// s2c-int: command-line front end of the integer codec (encode, decode, info, eval).
//
// `info` works (it needs no model). The integer codec does not exist yet: encode, decode and
// eval validate their arguments, then stop with `NotImplemented` and a non-zero exit status.
// No fake output is ever written.
import ArgumentParser
import ImageIO
import QuantModel
#if canImport(Glibc)
import Glibc
#endif

/// Root command: dispatches to the subcommands.
@main struct S2CInt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s2c-int",
        abstract: "Deterministic integer-only learned image codec (S2C-Hybrid-T).",
        discussion: """
            Decoding is meant to be bit-exact on every platform, CPU path and thread count. \
            Input images are 8-bit PNG (RGB, gray, palette or opaque RGBA). \
            Status: `info` works; encode, decode and eval only check their arguments (the integer \
            codec lands with issue 5).
            """,
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

/// Thrown after validation while the codec is missing.
struct NotImplemented: Error, CustomStringConvertible {
    var description: String { "not implemented yet: the integer codec lands with issue 5" }
}

/// Options every compute-heavy subcommand shares.
struct RuntimeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Quantized model file (.s2cq); default: the model in Weights/.",
                               valueName: "path"))
    var model: String?

    @Option(help: ArgumentHelp("Worker threads, 1...1024 (the output never depends on it).", valueName: "n"))
    var threads: Int?

    @Option(help: ArgumentHelp("CPU feature mask forcing lower kernel paths, decimal or 0x-hex; "
                               + "0 = plain C (same as S2C_CPU_MASK).", valueName: "mask"))
    var cpu: String?

    func validate() throws {
        if let model { try requireReadable(model, what: "model") }
        if let threads, !(1...1024).contains(threads) {
            throw ValidationError("--threads must be in 1...1024, got \(threads)")
        }
        if let cpu, parseMask(cpu) == nil {
            throw ValidationError("--cpu expects a number such as 0x1f or 31, got '\(cpu)'")
        }
    }
}

/// Valid quality range: the model is trained for continuous rates between 1 and 7.
let qualityRange: ClosedRange<Double> = 1...7

extension S2CInt {
    /// PNG -> .s2c bitstream.
    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Compress a PNG image into an .s2c bitstream.")

        @Argument(help: ArgumentHelp("Input PNG ('-' for stdin).", valueName: "in.png")) var input: String
        @Option(name: .shortAndLong, help: ArgumentHelp("Output bitstream ('-' for stdout).", valueName: "out.s2c"))
        var output: String
        @Option(help: ArgumentHelp("Quality in 1...7, higher is better and larger.", valueName: "q"))
        var quality: Double = 4
        @OptionGroup var runtime: RuntimeOptions

        func validate() throws {
            guard qualityRange.contains(quality) else {
                throw ValidationError("--quality must be in 1...7, got \(quality)")
            }
            try requireDistinct(input: input, output: output)
        }

        func run() throws { throw NotImplemented() }
    }

    /// .s2c bitstream -> PNG.
    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Decode an .s2c bitstream into a PNG image.")

        @Argument(help: ArgumentHelp("Input bitstream ('-' for stdin).", valueName: "in.s2c")) var input: String
        @Option(name: .shortAndLong, help: ArgumentHelp("Output PNG ('-' for stdout).", valueName: "out.png"))
        var output: String
        @OptionGroup var runtime: RuntimeOptions

        func validate() throws { try requireDistinct(input: input, output: output) }

        func run() throws { throw NotImplemented() }
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
            abstract: "Encode and decode every PNG in a folder; report bits per pixel and PSNR per quality.")

        @Option(help: ArgumentHelp("Folder of PNG images (e.g. the Kodak set).", valueName: "dir")) var images: String
        @Option(help: ArgumentHelp("Comma-separated qualities in 1...7.", valueName: "list"))
        var quality: String = "1,2,3,4,5,6,7"
        @Flag(help: "Print results as JSON instead of a table.") var json = false
        @OptionGroup var runtime: RuntimeOptions

        func validate() throws {
            var st = stat()
            guard stat(images, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
                throw ValidationError("--images: '\(images)' is not a folder")
            }
            _ = try parseQualities(quality)
        }

        func run() throws { throw NotImplemented() }
    }
}

// MARK: - Argument checks

/// Parses "1,2.5,7" into qualities, each in `qualityRange`.
func parseQualities(_ list: String) throws -> [Double] {
    try list.split(separator: ",", omittingEmptySubsequences: false).map { item in
        let text = String(item.filter { $0 != " " })
        guard let q = Double(text), qualityRange.contains(q) else {
            throw ValidationError("--quality: '\(text)' is not a number in 1...7")
        }
        return q
    }
}

/// Parses a CPU mask given in decimal or 0x-hex.
func parseMask(_ text: String) -> UInt64? {
    text.hasPrefix("0x") || text.hasPrefix("0X") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
}

/// Fails unless `path` is an existing readable regular file.
func requireReadable(_ path: String, what: String) throws {
    var st = stat()
    guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(path, R_OK) == 0 else {
        throw ValidationError("\(what) '\(path)' is not a readable file")
    }
}

/// Checks the input exists and the output would not overwrite it.
func requireDistinct(input: String, output: String) throws {
    if input != "-" { try requireReadable(input, what: "input") }
    if input != "-", output != "-", input == output || AtomicFile.isSameFile(input, output) {
        throw ValidationError("output '\(output)' is the input file; choose another name")
    }
}
