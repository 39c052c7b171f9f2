// EvaluationTests: s2c-int eval's library on the committed nano model: each row's numbers are the
// real file's size and the decoded image's PSNR, gray images are measured on their one channel,
// and the table and JSON say what the rows hold.
import FixedPoint
import Foundation
import ImageIO
import QuantModel
import Testing
@testable import Evaluation

private let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
private let fixtures = repo.appendingPathComponent("Tests/CalibrateTests/Fixtures").path

private func nano() throws -> IntCodec {
    let bytes = Array(try Data(contentsOf: repo.appendingPathComponent("Tests/Conformance/nano.s2cq")))
    return try IntCodec(model: try ModelFile(bytes: bytes))
}

@Test func rowsMeasureTheRealFileAndTheDecodedImage() throws {
    let codec = try nano(), kn = Kernels.best()
    let rows = try Evaluation.evaluateFolder(fixtures, codec, kn, qualities: [1, 4.5], maxTile: 1024)
    #expect(rows.map(\.image) == ["kodim23-crop-70x50.png", "kodim23-crop-70x50.png"])
    let img = try PNGIO.read(path: fixtures + "/kodim23-crop-70x50.png")
    for r in rows {
        // The same encode through the public codec API: the row's bytes are that file's size.
        let (bs, _) = try codec.encode(rgb: img.pixels, width: 70, height: 50, color: .rgb,
                                       quality256: Int(r.quality * 256), kn)
        let file = bs.serialize()
        #expect(r.bytes == file.count && r.bpp == 8 * Double(file.count) / (70 * 50))
        let dec = try codec.decode(try Bitstream(bytes: file), kn)
        #expect(r.psnr == PSNR.compute(img.pixels, dec.pixels))
        #expect(r.psnr > 5 && r.psnr < PSNR.lossless)
        #expect(r.msssim == nil, "70x50 is below MS-SSIM's 161-pixel minimum side")
    }
    #expect(rows[1].bytes > rows[0].bytes, "quality 4.5 should cost more than quality 1")
}

@Test func grayImagesAreMeasuredOnTheirChannel() throws {
    let codec = try nano(), kn = Kernels.best()
    var px = [UInt8](repeating: 0, count: 33 * 17 * 3)
    for i in 0..<(33 * 17) { for c in 0..<3 { px[3 * i + c] = UInt8((i * 7) % 251) } }
    let img = RGBImage(width: 33, height: 17, isGrayscale: true, pixels: px)
    let a = try codec.analyse(rgb: px, width: 33, height: 17, color: .gray, maxTile: 1024, kn)
    let r = try Evaluation.evaluate(codec, kn, img, a, analysisSeconds: 0, name: "g", quality: 3)
    let (bs, _) = try codec.encode(rgb: px, width: 33, height: 17, color: .gray, quality256: 768, kn)
    let dec = try codec.decode(bs, kn)
    #expect(dec.pixels.count == 33 * 17)
    #expect(r.psnr == PSNR.compute(stride(from: 0, to: px.count, by: 3).map { px[$0] }, dec.pixels))
}

@Test func tableAndJSONReportTheRows() throws {
    let rows = [
        EvalRow(image: "a.png", quality: 1, bytes: 100, bpp: 0.25, psnr: 30, msssim: 0.9, encodeSeconds: 1, decodeSeconds: 2),
        EvalRow(image: "b \"q\".png", quality: 1, bytes: 300, bpp: 0.75, psnr: 32, msssim: nil, encodeSeconds: 3,
                decodeSeconds: 4),
    ]
    let table = Evaluation.table(rows, qualities: [1, 2])
    let lines = table.split(separator: "\n")
    #expect(lines.count == 4, "header, two rows, one MEAN (no rows at quality 2): \(table)")
    #expect(lines[3].hasPrefix("MEAN") && lines[3].contains("0.5000") && lines[3].contains("31.000")
            && lines[3].contains("n/a"), "\(lines[3])")
    let parsed = try #require(try JSONSerialization.jsonObject(with: Data(Evaluation.json(rows).utf8)) as? [[String: Any]])
    #expect(parsed.count == 2)
    #expect(parsed[1]["image"] as? String == "b \"q\".png")
    #expect(parsed[0]["bytes"] as? Int == 100 && parsed[0]["msssim"] as? Double == 0.9)
    #expect(parsed[1]["msssim"] is NSNull)
}
