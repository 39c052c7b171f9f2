// Evaluation.swift: rate-distortion evaluation of the integer codec over a folder of PNGs (what
// `s2c-int eval` prints): real file sizes, PSNR and MS-SSIM against the input, times, and a check
// that every decode reproduces the encoder's reconstruction.
import FixedPoint
import Foundation
import ImageIO
import QuantModel

/// One image at one quality.
public struct EvalRow: Equatable, Sendable {
    public var image: String
    public var quality: Double
    /// Size of the serialized .s2c file (header, both rANS streams of every tile, CRCs).
    public var bytes: Int
    /// 8 * bytes / pixels.
    public var bpp: Double
    /// PSNR (ImageIO.PSNR) of the decoded image against the input, over its channels (1 for gray).
    public var psnr: Double
    /// MS-SSIM as pytorch_msssim computes it; nil where it refuses the image (a side <= 160).
    public var msssim: Double?
    /// What a standalone encode takes: g_a (shared by all qualities) + this quality's coding.
    public var encodeSeconds: Double
    public var decodeSeconds: Double

    public init(image: String, quality: Double, bytes: Int, bpp: Double, psnr: Double, msssim: Double?,
                encodeSeconds: Double, decodeSeconds: Double) {
        self.image = image
        self.quality = quality
        self.bytes = bytes
        self.bpp = bpp
        self.psnr = psnr
        self.msssim = msssim
        self.encodeSeconds = encodeSeconds
        self.decodeSeconds = decodeSeconds
    }
}

/// Why an evaluation stopped.
public struct EvaluationError: Error, CustomStringConvertible {
    public var description: String
}

public enum Evaluation {
    /// Encodes `img` at `quality` (from its g_a output `analysed`, computed once for all
    /// qualities), serializes, parses and decodes; checks the decoder reproduces the encoder's
    /// reconstruction; measures the real file size and the PSNR / MS-SSIM against the input.
    public static func evaluate(_ codec: IntCodec, _ kn: Kernels, _ img: RGBImage, _ analysed: IntCodec.Analysed,
                                analysisSeconds: Double, name: String, quality: Double) throws -> EvalRow {
        let t0 = Date().addingTimeInterval(-analysisSeconds)
        let (bs, rec) = try codec.encode(analysed, quality256: Int((quality * 256).rounded()), kn)
        let bytes = bs.serialize()
        let t1 = Date()
        let dec = try codec.decode(try Bitstream(bytes: bytes), kn)
        let t2 = Date()
        guard dec == rec else {
            throw EvaluationError(description: "\(name): decoder output differs from the encoder's reconstruction")
        }
        // Gray images decode to one channel: compare with the input's gray channel.
        let ref = img.isGrayscale ? stride(from: 0, to: img.pixels.count, by: 3).map { img.pixels[$0] } : img.pixels
        return EvalRow(image: name, quality: quality, bytes: bytes.count,
                       bpp: 8 * Double(bytes.count) / Double(img.width * img.height),
                       psnr: PSNR.compute(ref, dec.pixels),
                       msssim: MSSSIM.compute(ref, dec.pixels, width: img.width, height: img.height,
                                              channels: ref.count / (img.width * img.height)),
                       encodeSeconds: t1.timeIntervalSince(t0), decodeSeconds: t2.timeIntervalSince(t1))
    }

    /// Every PNG of `dir` (name order) at every quality: g_a once per image, then `evaluate` per
    /// quality; `progress(row, imageIndex, imageCount)` after each row.
    public static func evaluateFolder(_ dir: String, _ codec: IntCodec, _ kn: Kernels, qualities: [Double], maxTile: Int,
                                      progress: (EvalRow, Int, Int) -> Void = { _, _, _ in }) throws -> [EvalRow] {
        let files = try ImageFolder.pngFiles(dir)
        var rows: [EvalRow] = []
        for (i, f) in files.enumerated() {
            let img = try PNGIO.read(path: (dir as NSString).appendingPathComponent(f))
            let t0 = Date()
            let analysed = try codec.analyse(rgb: img.pixels, width: img.width, height: img.height,
                                             color: img.isGrayscale ? .gray : .rgb, maxTile: maxTile, kn)
            let analysisSeconds = Date().timeIntervalSince(t0)
            for q in qualities {
                let r = try evaluate(codec, kn, img, analysed, analysisSeconds: analysisSeconds, name: f, quality: q)
                rows.append(r)
                progress(r, i, files.count)
            }
        }
        return rows
    }

    /// The rows as a table, then one MEAN row per quality (MS-SSIM mean n/a unless every image has one).
    public static func table(_ rows: [EvalRow], qualities: [Double]) -> String {
        let width = max(16, rows.map(\.image.count).max() ?? 0)
        func pad(_ t: String) -> String { t.padding(toLength: width, withPad: " ", startingAt: 0) }
        func ms(_ v: Double?) -> String { v.map { String(format: " %8.5f", $0) } ?? "      n/a" }
        var s = pad("image") + " quality      bpp   PSNR dB  MS-SSIM   enc s   dec s\n"
        for r in rows {
            s += pad(r.image) + String(format: " %7.3g %8.4f %9.3f", r.quality, r.bpp, r.psnr) + ms(r.msssim)
                + String(format: " %7.2f %7.2f\n", r.encodeSeconds, r.decodeSeconds)
        }
        for q in qualities {
            let sel = rows.filter { $0.quality == q }
            guard !sel.isEmpty else { continue }
            func mean(_ f: (EvalRow) -> Double) -> Double { sel.map(f).reduce(0, +) / Double(sel.count) }
            let msAll = sel.compactMap(\.msssim)
            let msMean = msAll.count == sel.count ? msAll.reduce(0, +) / Double(sel.count) : nil
            s += pad("MEAN") + String(format: " %7.3g %8.4f %9.3f", q, mean(\.bpp), mean(\.psnr)) + ms(msMean)
                + String(format: " %7.2f %7.2f\n", mean(\.encodeSeconds), mean(\.decodeSeconds))
        }
        return s
    }

    /// The rows as a JSON array of objects (image, quality, bytes, bpp, psnr, msssim or null, encode_s, decode_s).
    public static func json(_ rows: [EvalRow]) -> String {
        let items = rows.map { r in
            "{\"image\":\(jsonString(r.image)),"
                + String(format: "\"quality\":%.4f,\"bytes\":%d,\"bpp\":%.6f,\"psnr\":%.4f,\"msssim\":%@,"
                         + "\"encode_s\":%.3f,\"decode_s\":%.3f}",
                         r.quality, r.bytes, r.bpp, r.psnr, r.msssim.map { String(format: "%.6f", $0) } ?? "null",
                         r.encodeSeconds, r.decodeSeconds)
        }
        return "[" + items.joined(separator: ",\n ") + "]\n"
    }

    /// A JSON string literal (quotes, backslashes and control characters escaped).
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
