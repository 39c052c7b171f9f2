// PNGLimitsTests: what a PNG's header and chunk list declare is checked against the file's size
// before libpng or our buffers allocate for it (findings of fuzz/harness/png.swift).
import Foundation
import Testing
@testable import ImageIO

private let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

@Suite struct PNGLimits {
    /// The fuzzer's input: a 241-byte file whose second chunk (tEXt) declares 1,229,209,940 bytes;
    /// libpng allocated that much before noticing the file ends.
    @Test func chunkLongerThanTheFileIsRefused() throws {
        let png = Array(try Data(contentsOf: repo.appendingPathComponent("fuzz/regressions/png/oom-tEXt-chunk-length-1.2GB.png")))
        #expect(png.count == 241)
        let err = #expect(throws: ImageIOError.self) { try PNGIO.read(data: png, name: "big-chunk.png") }
        #expect(err.map { "\($0)" }?.contains("chunk 'tEXt' at byte 33 declares 1229209940 bytes") == true, "\(String(describing: err))")
    }

    @Test(arguments: ["tEXt", "IDAT", "zTXt", "iCCP"])
    func anyChunkLongerThanTheFileIsRefused(type: String) {
        let ok = TestPNG.make(width: 2, height: 2, bitDepth: 8, colorType: 2, rows: TestPNG.rows(width: 2, height: 2, channels: 3) { _, _, _ in 9 })
        // Insert a chunk header declaring 2^30 bytes right after IHDR (33 bytes in).
        let bad = Array(ok[0..<33]) + TestPNG.be32(1 << 30) + Array(type.utf8) + [UInt8](repeating: 7, count: 16)
        let err = #expect(throws: ImageIOError.self) { try PNGIO.read(data: bad, name: "b.png") }
        #expect(err.map { "\($0)" }?.contains("declares 1073741824 bytes") == true)
    }

    /// 16384 x 16384 RGBA (a 1 GiB pixel buffer) with 20 bytes of image data: deflate cannot
    /// inflate that far (1032:1 at most), so it is refused before any pixel buffer exists.
    @Test func imageDataTooShortForTheImageIsRefused() {
        let ihdr = TestPNG.be32(16384) + TestPNG.be32(16384) + [8, 6, 0, 0, 0]
        let png = PNGHeader.signature + TestPNG.chunk("IHDR", ihdr) + TestPNG.chunk("IDAT", [UInt8](repeating: 0, count: 20))
            + TestPNG.chunk("IEND", [])
        let err = #expect(throws: ImageIOError.self) { try PNGIO.read(data: png, name: "huge.png") }
        #expect(err.map { "\($0)" }?.contains("20 bytes of image data cannot hold 16384x16384 pixels") == true)
        // No IDAT at all.
        let none = PNGHeader.signature + TestPNG.chunk("IHDR", TestPNG.be32(3) + TestPNG.be32(3) + [8, 2, 0, 0, 0]) + TestPNG.chunk("IEND", [])
        #expect(throws: ImageIOError.self) { try PNGIO.read(data: none, name: "none.png") }
    }

    /// The bound is deflate's limit, not a guess: a real, maximally compressed 4096 x 4096 gray
    /// image (16 MiB of zeros -> about 16 KiB of zlib) still reads.
    @Test func highlyCompressedImagesStillRead() throws {
        let img = RGBImage(width: 4096, height: 4096, isGrayscale: true)
        let png = try PNGIO.encode(img)
        #expect(png.count < 100_000)
        #expect(try PNGIO.read(data: png, name: "flat.png") == img)
    }
}
