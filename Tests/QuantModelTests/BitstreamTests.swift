// BitstreamTests.swift: .s2c container: pinned layout, round trip, determinism, every refusal.
import Testing
@testable import QuantModel

/// xorshift64: the same payloads on every run and platform; the seed is in each test's name.
struct XorShift {
    var s: UInt64
    mutating func next() -> UInt64 {
        s ^= s << 13
        s ^= s >> 7
        s ^= s << 17
        return s
    }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

/// The stream of the pinned-layout test: 768 x 512 rgb, Q 4.5, 5 z bytes, 7 y bytes.
func sampleStream() throws -> Bitstream {
    try Bitstream(fingerprint: 0x0123_4567_89ab_cdef, width: 768, height: 512, color: .rgb, quality256: 1152,
                  zStream: [1, 2, 3, 4, 5], yStream: [10, 20, 30, 40, 50, 60, 70])
}

/// `bytes` with `edit` applied to the header and the header CRC recomputed, so that only the
/// semantic checks can refuse it.
func withHeader(_ bytes: [UInt8], _ edit: (inout [UInt8]) -> Void) -> [UInt8] {
    var b = bytes
    edit(&b)
    let crc = crc32(b, 0..<28)
    for i in 0..<4 { b[28 + i] = UInt8(truncatingIfNeeded: crc >> UInt32(8 * i)) }
    return b
}

func setLE(_ b: inout [UInt8], at p: Int, _ v: UInt64, _ n: Int) {
    for i in 0..<n { b[p + i] = UInt8(truncatingIfNeeded: v >> UInt64(8 * i)) }
}

// MARK: - CRC-32

@Test func crc32CheckValue() {
    let s = Array("123456789".utf8)
    #expect(crc32(s, 0..<s.count) == 0xCBF4_3926)
    #expect(crc32([], 0..<0) == 0)
    // Chaining continues a previous CRC, as zlib's crc32() does.
    let a = s.withUnsafeBufferPointer { crc32(UnsafeBufferPointer(rebasing: $0[0..<4])) }
    let ab = s.withUnsafeBufferPointer { crc32(UnsafeBufferPointer(rebasing: $0[4..<9]), a) }
    #expect(ab == 0xCBF4_3926)
}

@Test func hexFormatting() {
    #expect(hex64(0) == "0x0000000000000000")
    #expect(hex64(0x0123_4567_89ab_cdef) == "0x0123456789abcdef")
    #expect(hex64(UInt64.max) == "0xffffffffffffffff")
}

// MARK: - Layout, round trip, determinism

@Test func pinnedLayout() throws {
    let b = try sampleStream().serialize()
    let header: [UInt8] = [
        0x89, 0x53, 0x32, 0x43,                         // magic
        0x01, 0x00,                                     // version 1, rgb
        0x80, 0x04,                                     // quality 1152 = 4.5 * 256
        0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01, // fingerprint
        0x00, 0x03, 0x00, 0x02,                         // 768 x 512
        0x05, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, // z 5, y 7
        0x25, 0x26, 0x07, 0x45,                         // CRC-32 of bytes 0..<28 (zlib: 0x45072625)
    ]
    #expect(Array(b[0..<32]) == header)
    #expect(Array(b[32..<44]) == [1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 60, 70])
    #expect(Array(b[44...]) == [0xff, 0xca, 0xe5, 0x0b])  // CRC-32 of the payloads (zlib: 0x0be5caff)
    #expect(b.count == 48)
}

@Test func roundTripRandomPayloads() throws {
    var rng = XorShift(s: 0x5EED_0001)
    for (zn, yn) in [(0, 0), (0, 1), (1, 0), (17, 1000), (4096, 65_537)] {
        let z = rng.bytes(zn), y = rng.bytes(yn)
        let color: ColorFormat = zn % 2 == 0 ? .rgb : .gray
        let w = 1 + Int(rng.next() % 65_535), h = 1 + Int(rng.next() % 4096)
        let q = 256 + Int(rng.next() % 1537)
        let s = try Bitstream(fingerprint: rng.next(), width: w, height: h, color: color, quality256: q,
                              zStream: z, yStream: y)
        let bytes = s.serialize()
        #expect(bytes.count == 36 + zn + yn)
        #expect(bytes.count == s.header.totalSize)
        let back = try Bitstream(bytes: bytes)
        #expect(back == s)
        #expect(back.serialize() == bytes, "parse -> serialize gives the same bytes")
        #expect(back.zStream == z && back.yStream == y)
        #expect(try Bitstream.peekHeader(bytes) == s.header)
        // peekHeader needs only the 32 header bytes.
        #expect(try Bitstream.peekHeader(Array(bytes[0..<32])) == s.header)
    }
}

@Test func extremeValidHeaders() throws {
    for (w, h) in [(1, 1), (65_535, 4096), (4096, 65_535), (16_384, 16_384)] {
        for q in [256, 1792, 65_535] {      // the format's range; a model's own upper end is the codec's check
            let s = try Bitstream(fingerprint: UInt64.max, width: w, height: h, color: .gray, quality256: q,
                                  zStream: [], yStream: [0])
            #expect(try Bitstream(bytes: s.serialize()) == s)
        }
    }
}

// MARK: - Refusals

@Test func emptyAndShortInputs() {
    #expect(throws: BitstreamError.empty) { try Bitstream(bytes: []) }
    #expect(throws: BitstreamError.empty) { try Bitstream.peekHeader([]) }
    #expect(throws: BitstreamError.badMagic) { try Bitstream(bytes: [0x89, 0x50, 0x4E, 0x47]) }  // a PNG
    #expect(throws: BitstreamError.badMagic) { try Bitstream(bytes: Array("S2C1 hello".utf8)) }
    #expect(throws: BitstreamError.badMagic) { try Bitstream(bytes: [0x00]) }
    #expect(throws: BitstreamError.truncatedHeader(2)) { try Bitstream(bytes: [0x89, 0x53]) }
}

@Test func bitstreamEveryTruncationIsRefused() throws {
    let good = try sampleStream().serialize()
    for n in 0..<good.count {
        let cut = Array(good[0..<n])
        let expected: BitstreamError = n == 0 ? .empty : n < 32 ? .truncatedHeader(n) : .truncated(expected: 48, found: n)
        #expect(throws: expected) { try Bitstream(bytes: cut) }
    }
}

@Test func trailingGarbageIsRefused() throws {
    let good = try sampleStream().serialize()
    #expect(throws: BitstreamError.trailingBytes(expected: 48, found: 49)) { try Bitstream(bytes: good + [0]) }
    #expect(throws: BitstreamError.trailingBytes(expected: 48, found: 1048)) {
        try Bitstream(bytes: good + [UInt8](repeating: 0xAB, count: 1000))
    }
    #expect(throws: BitstreamError.trailingBytes(expected: 48, found: 96)) { try Bitstream(bytes: good + good) }
}

/// Every single-bit flip of a valid bitstream is refused.
func expectEveryBitFlipRefused(_ good: [UInt8]) {
    for i in 0..<good.count * 8 {
        var bad = good
        bad[i / 8] ^= UInt8(1 << (i % 8))
        #expect(throws: BitstreamError.self, "flip of bit \(i % 8) in byte \(i / 8)") { try Bitstream(bytes: bad) }
    }
}

@Test func bitstreamEveryBitFlipIsRefused() throws {
    let good = try sampleStream().serialize()
    expectEveryBitFlipRefused(good)
    // A flip in the payload or its CRC is a payload CRC mismatch; in header fields, a header one.
    var bad = good
    bad[40] ^= 0x10
    #expect(throws: BitstreamError.payloadChecksumMismatch) { try Bitstream(bytes: bad) }
    bad = good
    bad[17] ^= 0x01
    #expect(throws: BitstreamError.headerChecksumMismatch) { try Bitstream(bytes: bad) }
}

@Test func randomBitFlipsInALargeStreamAreRefused() throws {
    var rng = XorShift(s: 0x5EED_0002)
    let s = try Bitstream(fingerprint: 42, width: 640, height: 480, color: .rgb, quality256: 1024,
                          zStream: rng.bytes(1000), yStream: rng.bytes(10_000))
    let good = s.serialize()
    for _ in 0..<500 {
        var bad = good
        // CRC-32 has Hamming distance 4 up to 91607 bits (Koopman), so each CRC here catches
        // every error of 1 to 3 bits in what it covers (28 header bytes, 11000 payload bytes).
        let flips = 1 + Int(rng.next() % 3)
        var seen: Set<Int> = []
        while seen.count < flips { seen.insert(Int(rng.next() % UInt64(good.count * 8))) }
        for bit in seen { bad[bit / 8] ^= UInt8(1 << (bit % 8)) }
        #expect(throws: BitstreamError.self, "flipped bits \(seen.sorted())") { try Bitstream(bytes: bad) }
    }
}

@Test func semanticChecksBehindAValidCRC() throws {
    let good = try sampleStream().serialize()
    func refused(_ e: BitstreamError, _ edit: (inout [UInt8]) -> Void) {
        let bad = withHeader(good, edit)
        #expect(throws: e) { try Bitstream(bytes: bad) }
        #expect(throws: e) { try Bitstream.peekHeader(bad) }
    }
    refused(.badMagic) { $0[0] = 0x53 }
    refused(.badMagic) { $0[3] = 0x51 }
    refused(.unsupportedVersion(0)) { $0[4] = 0 }
    refused(.unsupportedVersion(3)) { $0[4] = 3 }
    refused(.unknownColorFormat(2)) { $0[5] = 2 }
    refused(.unknownColorFormat(255)) { $0[5] = 255 }
    refused(.badQuality(0)) { setLE(&$0, at: 6, 0, 2) }
    refused(.badQuality(255)) { setLE(&$0, at: 6, 255, 2) }
    refused(.badDimensions(width: 0, height: 512)) { setLE(&$0, at: 16, 0, 2) }
    refused(.badDimensions(width: 768, height: 0)) { setLE(&$0, at: 18, 0, 2) }
    refused(.badDimensions(width: 65_535, height: 65_535)) { setLE(&$0, at: 16, 65_535, 2); setLE(&$0, at: 18, 65_535, 2) }
    refused(.badDimensions(width: 16_384, height: 16_385)) { setLE(&$0, at: 16, 16_384, 2); setLE(&$0, at: 18, 16_385, 2) }
    refused(.streamTooLarge(stream: "z", length: (1 << 28) + 1)) { setLE(&$0, at: 20, (1 << 28) + 1, 4) }
    refused(.streamTooLarge(stream: "y", length: 0xFFFF_FFFF)) { setLE(&$0, at: 24, 0xFFFF_FFFF, 4) }
    // Stream lengths that lie about the file size (the file is 48 bytes: 32 + 5 + 7 + 4).
    #expect(throws: BitstreamError.truncated(expected: 49, found: 48)) {
        try Bitstream(bytes: withHeader(good) { setLE(&$0, at: 20, 6, 4) })
    }
    #expect(throws: BitstreamError.truncated(expected: (1 << 28) + 41, found: 48)) {
        try Bitstream(bytes: withHeader(good) { setLE(&$0, at: 24, 1 << 28, 4) })
    }
    #expect(throws: BitstreamError.trailingBytes(expected: 47, found: 48)) {
        try Bitstream(bytes: withHeader(good) { setLE(&$0, at: 24, 6, 4) })
    }
    // Moving the z/y boundary keeps the total but the payload CRC still matches: the container
    // cannot see it (the CRC covers z and y as one run); the codec's decoders must catch it.
    let moved = try Bitstream(bytes: withHeader(good) { setLE(&$0, at: 20, 6, 4); setLE(&$0, at: 24, 6, 4) })
    #expect(moved.zStream == [1, 2, 3, 4, 5, 10] && moved.yStream == [20, 30, 40, 50, 60, 70])
}

@Test func writerRefusesWhatTheParserRefuses() {
    #expect(throws: BitstreamError.badDimensions(width: 0, height: 1)) {
        try Bitstream(fingerprint: 0, width: 0, height: 1, color: .rgb, quality256: 1024, zStream: [], yStream: [])
    }
    #expect(throws: BitstreamError.badDimensions(width: 65_536, height: 1)) {
        try Bitstream(fingerprint: 0, width: 65_536, height: 1, color: .rgb, quality256: 1024, zStream: [], yStream: [])
    }
    #expect(throws: BitstreamError.badDimensions(width: -1, height: -1)) {
        try Bitstream(fingerprint: 0, width: -1, height: -1, color: .rgb, quality256: 1024, zStream: [], yStream: [])
    }
    #expect(throws: BitstreamError.badQuality(255)) {
        try Bitstream(fingerprint: 0, width: 1, height: 1, color: .rgb, quality256: 255, zStream: [], yStream: [])
    }
    #expect(throws: BitstreamError.streamTooLarge(stream: "y", length: (1 << 28) + 1)) {
        try BitstreamHeader(fingerprint: 0, width: 1, height: 1, color: .rgb, quality256: 256, zLength: 0,
                            yLength: (1 << 28) + 1)
    }
}

@Test func modelFingerprintCheck() throws {
    let h = try sampleStream().header
    try h.requireModel(fingerprint: 0x0123_4567_89ab_cdef)
    #expect(throws: BitstreamError.modelMismatch(bitstream: 0x0123_4567_89ab_cdef, model: 7)) {
        try h.requireModel(fingerprint: 7)
    }
}

@Test func errorMessagesSayWhatToDo() {
    let m = BitstreamError.modelMismatch(bitstream: 0x0123_4567_89ab_cdef, model: 7).message
    #expect(m.contains("0x0123456789abcdef") && m.contains("0x0000000000000007") && m.contains(".s2cq"))
    #expect(BitstreamError.truncated(expected: 100, found: 60).message == "bitstream is truncated: the header announces 100 bytes, the file has 60")
    #expect(BitstreamError.badMagic.message.contains("not an s2c bitstream"))
    #expect(BitstreamError.trailingBytes(expected: 48, found: 50).message.contains("2 trailing bytes"))
    let all: [BitstreamError] = [.empty, .badMagic, .truncatedHeader(3), .unsupportedVersion(9), .headerChecksumMismatch,
                                 .unknownColorFormat(7), .badDimensions(width: 0, height: 0), .badQuality(0),
                                 .streamTooLarge(stream: "z", length: 1), .truncated(expected: 2, found: 1),
                                 .trailingBytes(expected: 1, found: 2), .payloadChecksumMismatch,
                                 .modelMismatch(bitstream: 1, model: 2)]
    for e in all { #expect(e.message.hasPrefix("bitstream") || e.message.hasPrefix("not an s2c")) }
}

// MARK: - info formatting

@Test func qualityAsExactDecimal() throws {
    func q(_ v: Int) throws -> String {
        try BitstreamHeader(fingerprint: 0, width: 1, height: 1, color: .rgb, quality256: v, zLength: 0, yLength: 0).qualityText
    }
    #expect(try q(256) == "1")
    #expect(try q(257) == "1.00390625")
    #expect(try q(1152) == "4.5")
    #expect(try q(320) == "1.25")
    #expect(try q(1791) == "6.99609375")
    #expect(try q(1792) == "7")
}

@Test func bitsPerPixel() throws {
    let h = try BitstreamHeader(fingerprint: 0, width: 13, height: 7, color: .rgb, quality256: 256, zLength: 0, yLength: 0)
    #expect(h.bitsPerPixel(fileSize: 48) == "4.2198")     // 384 / 91 = 4.21978...
    #expect(h.bitsPerPixel(fileSize: 91) == "8.0000")
    let big = try BitstreamHeader(fingerprint: 0, width: 768, height: 512, color: .rgb, quality256: 256, zLength: 0, yLength: 0)
    #expect(big.bitsPerPixel(fileSize: 48) == "0.0010")    // 0.000976... rounds half up
    #expect(big.bitsPerPixel(fileSize: 1 << 30) == "21845.3333")
}

@Test func infoTextAndJSON() throws {
    let s = try Bitstream(fingerprint: 0xfeed_face_0000_0001, width: 13, height: 7, color: .gray, quality256: 1152,
                          zStream: [1, 2, 3, 4, 5], yStream: [6, 7, 8, 9, 10, 11, 12])
    let n = s.serialize().count
    #expect(s.header.infoText(fileSize: n) == """
        s2c bitstream, format version 1
        image:    13 x 7, gray
        quality:  4.5 (stored 1152/256)
        model:    fingerprint 0xfeedface00000001
        streams:  z 5 bytes, y 7 bytes
        file:     48 bytes, 4.2198 bits per pixel

        """)
    #expect(s.header.infoJSON(fileSize: n) == """
        {"version": 1, "width": 13, "height": 7, "color": "gray", "tiles": 1, "tile_width": 13, "tile_height": 7, \
        "quality": 4.5, "quality256": 1152, \
        "fingerprint": "0xfeedface00000001", "z_bytes": 5, "y_bytes": 7, "file_bytes": 48, "bpp": 4.2198}

        """)
}

// MARK: - Version 2: tiled streams

/// 130 x 77 gray at Q 4.5 in 64 x 64 tiles: 3 x 2 tiles, tile i has i + 1 z bytes and 2 i + 1 y bytes.
func sampleTiledStream() throws -> Bitstream {
    let tiles = (0..<6).map { i in
        TileStreams(z: [UInt8](repeating: UInt8(16 * i + 1), count: i + 1), y: [UInt8](repeating: UInt8(16 * i + 2), count: 2 * i + 1))
    }
    return try Bitstream(fingerprint: 0x0123_4567_89ab_cdef, width: 130, height: 77, color: .gray, quality256: 1152,
                         tileWidth: 64, tileHeight: 64, tiles: tiles)
}

/// `bytes` (version 2) with `edit` applied and both the header CRC and the tile table CRC recomputed.
func withTiledHeader(_ bytes: [UInt8], tiles: Int, _ edit: (inout [UInt8]) -> Void) -> [UInt8] {
    var b = bytes
    edit(&b)
    setLE(&b, at: 32, UInt64(crc32(b, 0..<32)), 4)
    setLE(&b, at: 36 + 8 * tiles, UInt64(crc32(b, 36..<36 + 8 * tiles)), 4)
    return b
}

@Test func tiledLayout() throws {
    let s = try sampleTiledStream()
    let b = s.serialize()
    #expect(s.header.version == 2 && s.header.tileColumns == 3 && s.header.tileRows == 2 && s.header.tileCount == 6)
    #expect(Array(b[0..<8]) == [0x89, 0x53, 0x32, 0x43, 0x02, 0x01, 0x80, 0x04])  // magic, v2, gray, 1152
    #expect(getLE(b, 16, 2) == 130 && getLE(b, 18, 2) == 77)
    #expect(getLE(b, 20, 4) == 21 && getLE(b, 24, 4) == 36)                      // z 1+...+6, y 1+3+...+11
    #expect(getLE(b, 28, 2) == 64 && getLE(b, 30, 2) == 64)                      // tile size
    #expect(UInt32(getLE(b, 32, 4)) == crc32(b, 0..<32))                          // header CRC
    for i in 0..<6 {                                                              // tile table
        #expect(getLE(b, 36 + 8 * i, 4) == UInt64(i + 1) && getLE(b, 40 + 8 * i, 4) == UInt64(2 * i + 1))
    }
    #expect(UInt32(getLE(b, 84, 4)) == crc32(b, 36..<84))                         // tile table CRC
    #expect(Array(b[88..<92]) == [1, 2, 17, 17])                                  // tile 0: z [1], y [2]; tile 1 z...
    #expect(b.count == 36 + 6 * 8 + 4 + 21 + 36 + 4 && b.count == s.header.totalSize)
    #expect(UInt32(getLE(b, b.count - 4, 4)) == crc32(b, 88..<b.count - 4))       // payload CRC
    // Tile rectangles: 64-pixel tiles, the last column 2 wide and the last row 13 high.
    #expect(s.header.tile(0) == (0, 0, 64, 64))
    #expect(s.header.tile(2) == (128, 0, 2, 64))
    #expect(s.header.tile(5) == (128, 64, 2, 13))
    let back = try Bitstream(bytes: b)
    #expect(back == s && back.serialize() == b)
    #expect(try Bitstream.peekHeader(Array(b[0..<36])) == s.header)
    #expect(s.header.infoText(fileSize: b.count).contains("tiles:    3 x 2 of 64 x 64\n"))
}

@Test func oneTileIsAlwaysVersion1() throws {
    // A grid that covers the image with one tile is written as version 1, byte for byte.
    let one = try Bitstream(fingerprint: 0x0123_4567_89ab_cdef, width: 768, height: 512, color: .rgb, quality256: 1152,
                            tileWidth: 1024, tileHeight: 512, tiles: [TileStreams(z: [1, 2, 3, 4, 5], y: [10, 20, 30, 40, 50, 60, 70])])
    #expect(one.serialize() == (try sampleStream().serialize()))
    #expect(one.header.version == 1 && one.header.tileCount == 1 && one.header.tile(0) == (0, 0, 768, 512))
}

@Test func tiledRoundTripRandom() throws {
    var rng = XorShift(s: 0x5EED_0003)
    for _ in 0..<30 {
        let w = 1 + Int(rng.next() % 3000), h = 1 + Int(rng.next() % 3000)
        let tw = 64 * (1 + Int(rng.next() % 20)), th = 64 * (1 + Int(rng.next() % 20))
        let cols = (w + tw - 1) / tw, rows = (h + th - 1) / th
        let tiles = (0..<cols * rows).map { _ in TileStreams(z: rng.bytes(Int(rng.next() % 5)), y: rng.bytes(Int(rng.next() % 40))) }
        let s = try Bitstream(fingerprint: rng.next(), width: w, height: h, color: .rgb, quality256: 256,
                              tileWidth: tw, tileHeight: th, tiles: tiles)
        #expect(s.header.version == (cols * rows == 1 ? 1 : 2))
        let b = s.serialize()
        #expect(b.count == s.header.totalSize)
        #expect(try Bitstream(bytes: b) == s)
        // The tiles cover the image exactly once.
        var covered = 0
        for i in 0..<s.header.tileCount {
            let r = s.header.tile(i)
            #expect(r.width >= 1 && r.height >= 1 && r.x + r.width <= w && r.y + r.height <= h)
            covered += r.width * r.height
        }
        #expect(covered == w * h)
    }
}

@Test func tiledRefusals() throws {
    let s = try sampleTiledStream()
    let good = s.serialize()
    // Every truncation, every bit flip.
    for n in 0..<good.count {
        let e: BitstreamError = n == 0 ? .empty : n < 36 ? .truncatedHeader(n) : .truncated(expected: good.count, found: n)
        #expect(throws: e) { try Bitstream(bytes: Array(good[0..<n])) }
    }
    expectEveryBitFlipRefused(good)
    var bad = good
    bad[50] ^= 1
    #expect(throws: BitstreamError.tileTableChecksumMismatch) { try Bitstream(bytes: bad) }
    // Semantic checks behind valid CRCs.
    func refused(_ e: BitstreamError, _ edit: (inout [UInt8]) -> Void) {
        #expect(throws: e) { try Bitstream(bytes: withTiledHeader(good, tiles: 6, edit)) }
    }
    refused(.badTileSize(width: 100, height: 64)) { setLE(&$0, at: 28, 100, 2) }
    refused(.badTileSize(width: 0, height: 64)) { setLE(&$0, at: 28, 0, 2) }
    refused(.badTileSize(width: 64, height: 32)) { setLE(&$0, at: 30, 32, 2) }
    refused(.badTileSize(width: 192, height: 128)) { setLE(&$0, at: 28, 192, 2); setLE(&$0, at: 30, 128, 2) }  // one tile
    // Lengths in the table that do not add up to the header's, with every CRC valid.
    refused(.tileTableMismatch) { setLE(&$0, at: 36, 5, 4) }  // z: 5 + 2 + ... + 6 != 21
    // A boundary moved between two tiles' z streams keeps the sums: the container accepts it
    // (the codec's decoders must refuse or decode garbage).
    let moved = try Bitstream(bytes: withTiledHeader(good, tiles: 6) { setLE(&$0, at: 36, 2, 4); setLE(&$0, at: 44, 1, 4); setLE(&$0, at: 40, 0, 4); setLE(&$0, at: 48, 4, 4) })
    #expect(moved.tiles[0].z.count == 2 && moved.tiles[1].z.count == 1)
    // The writer refuses a grid it cannot write and a tile list of the wrong length.
    #expect(throws: BitstreamError.badTileSize(width: 96, height: 64)) {
        try Bitstream(fingerprint: 0, width: 130, height: 77, color: .rgb, quality256: 256, tileWidth: 96, tileHeight: 64,
                      tiles: [TileStreams](repeating: TileStreams(z: [], y: []), count: 4))
    }
    #expect(throws: BitstreamError.tileTableMismatch) {
        try Bitstream(fingerprint: 0, width: 130, height: 77, color: .rgb, quality256: 256, tileWidth: 64, tileHeight: 64,
                      tiles: [TileStreams](repeating: TileStreams(z: [], y: []), count: 5))
    }
}

@Test func largestTileTableFitsTheReadCap() throws {
    // 65535 x 4096 in 64 x 64 tiles: 1024 x 64 = 65536 tiles, within Bitstream.maxTiles.
    let h = try BitstreamHeader(fingerprint: 0, width: 65_535, height: 4096, color: .rgb, quality256: 256,
                                zLength: Bitstream.maxStreamBytes, yLength: Bitstream.maxStreamBytes, tileWidth: 64, tileHeight: 64)
    #expect(h.tileCount == 65_536 && h.tileCount <= Bitstream.maxTiles && h.totalSize <= Bitstream.maxSize)
}
