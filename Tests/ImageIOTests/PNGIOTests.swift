// PNG input policy and round trips: every accepted and refused format, damaged files, limits.
import Testing
@testable import ImageIO

/// A deterministic pseudo-random image (xorshift), optionally gray.
private func sampleImage(width: Int, height: Int, gray: Bool, seed: UInt64 = 0x5EED) -> RGBImage {
    var s = seed
    var img = RGBImage(width: width, height: height, isGrayscale: gray)
    for p in 0..<(width * height) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17
        for c in 0..<3 { img.pixels[p * 3 + c] = UInt8(truncatingIfNeeded: gray ? s : s >> (8 * c)) }
    }
    return img
}

/// The IHDR colour type byte of PNG bytes.
private func colorType(_ png: [UInt8]) -> UInt8 { png[25] }

@Suite struct PNGRoundTrip {
    @Test func rgbRoundTrip() throws {
        let img = sampleImage(width: 37, height: 23, gray: false)
        let png = try PNGIO.encode(img)
        #expect(colorType(png) == 2)
        #expect(try PNGIO.read(data: png, name: "rgb.png") == img)
    }

    @Test func grayRoundTripStaysGray() throws {
        let img = sampleImage(width: 19, height: 31, gray: true)
        let png = try PNGIO.encode(img)
        #expect(colorType(png) == 0)
        #expect(png[24] == 8)
        let back = try PNGIO.read(data: png, name: "gray.png")
        #expect(back.isGrayscale)
        #expect(back == img)
    }

    /// The writer's Paeth rows and zlib stream at the edges: one pixel, one row, one column (the
    /// first row and column have no neighbours), read back by libpng, which checks every CRC.
    @Test(arguments: [(1, 1), (1, 9), (9, 1), (2, 2), (300, 3)])
    func edgeShapesRoundTrip(width: Int, height: Int) throws {
        for gray in [false, true] {
            let img = sampleImage(width: width, height: height, gray: gray, seed: UInt64(width * 1000 + height))
            #expect(try PNGIO.read(data: PNGIO.encode(img), name: "edge.png") == img)
        }
    }

    /// Images of several deflate chunks (about 256 KiB of rows each): libpng reads them back, and
    /// the bytes are the same whatever order or thread the chunks run on.
    @Test(arguments: [(700, 300, false), (1500, 400, true), (333, 1000, false)])
    func chunkedImagesDoNotDependOnTheChunkOrder(width: Int, height: Int, gray: Bool) throws {
        #expect(height * (width * (gray ? 1 : 3) + 1) > 2 * PNGIO.chunkBytes)
        let img = sampleImage(width: width, height: height, gray: gray, seed: UInt64(width + height))
        let serial = try PNGIO.encode(img)
        let reversed = try PNGIO.encode(img) { n, body in for i in (0..<n).reversed() { body(i) } }
        #expect(serial == reversed)
        #expect(try PNGIO.read(data: serial, name: "chunks.png") == img)
    }

    @Test func grayWithUnequalChannelsIsRefusedByEncoder() {
        var img = sampleImage(width: 4, height: 4, gray: true)
        img.pixels[5] &+= 1
        #expect(throws: ImageIOError.self) { try PNGIO.encode(img) }
    }

    @Test func handBuiltRGBMatchesLibpngReader() throws {
        let rows = TestPNG.rows(width: 5, height: 3, channels: 3) { x, y, c in UInt8(x * 40 + y * 7 + c) }
        let img = try PNGIO.read(data: TestPNG.make(width: 5, height: 3, bitDepth: 8, colorType: 2, rows: rows), name: "h.png")
        #expect(!img.isGrayscale)
        #expect(img.pixels == rows.flatMap { $0 })
    }

    @Test func gammaChunkDoesNotChangeSamples() throws {
        // gAMA = 1.0 would make libpng's simplified API convert linear -> sRGB; we strip it.
        let rows = TestPNG.rows(width: 4, height: 2, channels: 3) { x, y, c in UInt8(x * 50 + y * 20 + c) }
        let gama = TestPNG.chunk("gAMA", TestPNG.be32(100_000))
        let png = TestPNG.make(width: 4, height: 2, bitDepth: 8, colorType: 2, rows: rows, before: [gama])
        #expect(try PNGIO.read(data: png, name: "gamma.png").pixels == rows.flatMap { $0 })
    }

    @Test func paletteBecomesRGB() throws {
        let plte = TestPNG.chunk("PLTE", [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
        let rows: [[UInt8]] = [[0, 1, 2, 3], [3, 2, 1, 0]]
        let img = try PNGIO.read(data: TestPNG.make(width: 4, height: 2, bitDepth: 8, colorType: 3, rows: rows, before: [plte]),
                                 name: "pal.png")
        #expect(!img.isGrayscale)
        #expect(Array(img.pixels[0..<12]) == [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
        #expect(Array(img.pixels[12..<15]) == [10, 20, 30])
    }

    @Test func lowBitDepthGrayIsScaled() throws {
        // 2-bit gray 0,1,2,3 -> 0,85,170,255; packed MSB first: 0b00_01_10_11.
        let img = try PNGIO.read(data: TestPNG.make(width: 4, height: 1, bitDepth: 2, colorType: 0, rows: [[0b0001_1011]]),
                                 name: "g2.png")
        #expect(img.isGrayscale)
        #expect(img.pixels == [0, 0, 0, 85, 85, 85, 170, 170, 170, 255, 255, 255])
    }

    @Test func interlacedIsRead() throws {
        // 1x1 Adam7: only pass 1 has a pixel, so the scanline data equals the plain layout.
        var png = TestPNG.make(width: 1, height: 1, bitDepth: 8, colorType: 2, rows: [[7, 8, 9]])
        let ihdr = Array(png[16..<29])
        png.replaceSubrange(8..<33, with: TestPNG.chunk("IHDR", Array(ihdr[0..<12]) + [1]))
        #expect(try PNGHeader.parse(png, name: "i.png").interlaced)
        #expect(try PNGIO.read(data: png, name: "i.png").pixels == [7, 8, 9])
    }

    @Test func kodakImageRoundTrips() throws {
        // Optional: ../shared/data/kodak/kodim23.png next to the repository.
        let path = "../shared/data/kodak/kodim23.png"
        guard let bytes = try? FileIO.readAll(path: path) else { return }
        let img = try PNGIO.read(data: bytes, name: path)
        #expect(img.width == 768 && img.height == 512 && !img.isGrayscale)
        #expect(try PNGIO.read(data: PNGIO.encode(img), name: "again.png") == img)
    }
}

@Suite struct PNGPolicy {
    @Test func opaqueRGBAIsAccepted() throws {
        let rows = TestPNG.rows(width: 3, height: 2, channels: 4) { x, _, c in c == 3 ? 255 : UInt8(x * 60 + c) }
        let img = try PNGIO.read(data: TestPNG.make(width: 3, height: 2, bitDepth: 8, colorType: 6, rows: rows), name: "a.png")
        #expect(!img.isGrayscale)
        #expect(Array(img.pixels[0..<9]) == [0, 1, 2, 60, 61, 62, 120, 121, 122])
    }

    @Test func opaqueGrayAlphaIsAcceptedAsGray() throws {
        let rows = TestPNG.rows(width: 2, height: 2, channels: 2) { x, y, c in c == 1 ? 255 : UInt8(x * 100 + y) }
        let img = try PNGIO.read(data: TestPNG.make(width: 2, height: 2, bitDepth: 8, colorType: 4, rows: rows), name: "ga.png")
        #expect(img.isGrayscale)
        #expect(img.pixels == [0, 0, 0, 100, 100, 100, 1, 1, 1, 101, 101, 101])
    }

    @Test func transparentRGBAIsRefused() {
        let rows = TestPNG.rows(width: 3, height: 2, channels: 4) { x, y, c in c == 3 ? (x == 2 && y == 1 ? 254 : 255) : 9 }
        let png = TestPNG.make(width: 3, height: 2, bitDepth: 8, colorType: 6, rows: rows)
        let err = #expect(throws: ImageIOError.self) { try PNGIO.read(data: png, name: "t.png") }
        let text = err.map { "\($0)" } ?? ""
        #expect(text.hasPrefix("t.png: "))
        #expect(text.contains("has transparency; s2c codes opaque images only"))
        #expect(text.contains("pixel 2,1"))
    }

    @Test func paletteTransparencyIsRefusedOnlyWhenUsed() throws {
        let plte = TestPNG.chunk("PLTE", [1, 2, 3, 4, 5, 6])
        let trns = TestPNG.chunk("tRNS", [255, 0])  // entry 1 fully transparent
        let unused = TestPNG.make(width: 2, height: 1, bitDepth: 8, colorType: 3, rows: [[0, 0]], before: [plte, trns])
        #expect(try PNGIO.read(data: unused, name: "p.png").pixels == [1, 2, 3, 1, 2, 3])
        let used = TestPNG.make(width: 2, height: 1, bitDepth: 8, colorType: 3, rows: [[0, 1]], before: [plte, trns])
        #expect(throws: ImageIOError.self) { try PNGIO.read(data: used, name: "p.png") }
    }

    @Test func sixteenBitIsRefused() {
        let rows = TestPNG.rows(width: 2, height: 2, channels: 6) { _, _, _ in 7 }
        let png = TestPNG.make(width: 2, height: 2, bitDepth: 16, colorType: 2, rows: rows)
        let err = #expect(throws: ImageIOError.self) { try PNGIO.read(data: png, name: "deep.png") }
        #expect(err.map { "\($0)" }?.contains("deep.png: 16-bit PNG") == true)
    }
}

@Suite struct PNGDamage {
    @Test func emptyFile() {
        #expect(throws: ImageIOError.empty(path: "e.png")) { try PNGIO.read(data: [], name: "e.png") }
    }

    @Test func notPNG() {
        let err = #expect(throws: ImageIOError.self) { try PNGIO.read(data: Array("GIF89a hello".utf8), name: "x.gif") }
        #expect(err == .notPNG(path: "x.gif"))
        #expect(err.map { "\($0)" } == "x.gif: not a PNG file (bad signature)")
    }

    @Test func everyTruncationThrows() throws {
        let png = try PNGIO.encode(sampleImage(width: 9, height: 7, gray: false))
        for n in 0..<png.count - 12 {  // dropping only IEND (12 bytes) may still decode
            #expect(throws: ImageIOError.self, "prefix \(n)") { try PNGIO.read(data: Array(png[0..<n]), name: "cut.png") }
        }
    }

    @Test func flippedBytesNeverCrash() throws {
        let png = try PNGIO.encode(sampleImage(width: 9, height: 7, gray: false))
        for i in 8..<png.count {
            var bad = png
            bad[i] ^= 0x5A
            do { _ = try PNGIO.read(data: bad, name: "flip.png") } catch let e as ImageIOError {
                #expect("\(e)".hasPrefix("flip.png: "))
            }
        }
    }

    @Test(arguments: [(100_000, 10), (10, 70_000), (60_000, 60_000), (0, 5), (0x7FFF_FFFF, 0x7FFF_FFFF)])
    func absurdDimensionsRefusedBeforeDecoding(w: Int, h: Int) {
        // No IDAT at all: refusal must come from the header, before any buffer is allocated.
        let ihdr = TestPNG.be32(UInt32(w)) + TestPNG.be32(UInt32(h)) + [8, 2, 0, 0, 0]
        let png = PNGHeader.signature + TestPNG.chunk("IHDR", ihdr) + TestPNG.chunk("IEND", [])
        #expect(throws: ImageIOError.badDimensions(path: "big.png", width: w, height: h)) {
            try PNGIO.read(data: png, name: "big.png")
        }
    }

    @Test func headerReportsStoredFormat() throws {
        let trns = TestPNG.chunk("tRNS", [0, 7])
        let png = TestPNG.make(width: 3, height: 1, bitDepth: 8, colorType: 0, rows: [[1, 7, 9]], before: [trns])
        let h = try PNGHeader.parse(png, name: "g.png")
        #expect(h.colorType == .gray && h.bitDepth == 8 && h.hasTransparencyChunk && h.isGrayscale)
        #expect(throws: ImageIOError.self) { try PNGIO.read(data: png, name: "g.png") }  // pixel 1 matches tRNS
    }
}
