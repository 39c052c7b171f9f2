// bitstream.swift: libFuzzer harness for the .s2c bitstream: parse (header, tile table, CRCs),
// the info texts, and a full decode with the committed nano model (Tests/Conformance/nano.s2cq):
// z and y rANS streams, h_s, the SCCTX context and parameter networks, g_s.
//
// Each input runs twice when it differs after the fix-up: as given (every check, CRCs included),
// and with its three CRC-32s recomputed, so that mutations reach the tile table, the payloads
// and the networks instead of stopping at a checksum. Images decode only up to maxPixels padded
// pixels (larger valid headers are parsed, not decoded: decode time grows with the image).
// Every successful decode is compared with the C reference kernels at default bands: a
// difference is a finding (determinism is the product).
import FixedPoint
import QuantModel

let maxPixels = 4 * 64 * 64

let codec: IntCodec = {
    s2c_set_threads(1)
    do {
        return try IntCodec(model: try ModelFile(bytes: repoFile("Tests/Conformance/nano.s2cq")), decodeOnly: true)
    } catch {
        fatalError("fuzz-bitstream: nano model: \(error)")
    }
}()

/// `b` with its header, tile-table and payload CRC-32s recomputed wherever the layout they
/// protect can be read; nil when nothing could be fixed.
func withFixedChecksums(_ input: [UInt8]) -> [UInt8]? {
    var b = input
    guard b.count >= Bitstream.headerSize, Array(b[0..<4]) == Bitstream.magic else { return nil }
    func le(_ p: Int, _ n: Int) -> Int { var v = 0; for i in 0..<n { v |= Int(b[p + i]) << (8 * i) }; return v }
    func put(_ p: Int, _ v: UInt32) { for i in 0..<4 { b[p + i] = UInt8(truncatingIfNeeded: v >> UInt32(8 * i)) } }
    let tiled = b[4] == Bitstream.tiledVersion
    let hs = tiled ? Bitstream.tiledHeaderSize : Bitstream.headerSize
    guard b.count >= hs else { return nil }
    put(hs - 4, crc32(b, 0..<hs - 4))
    var p = hs
    if tiled {
        let w = le(16, 2), h = le(18, 2), tw = le(28, 2), th = le(30, 2)
        guard tw > 0, th > 0 else { return b }
        let tiles = ((w + tw - 1) / tw) * ((h + th - 1) / th)
        guard tiles <= Bitstream.maxTiles, p + 8 * tiles + 4 <= b.count else { return b }
        put(p + 8 * tiles, crc32(b, p..<p + 8 * tiles))
        p += 8 * tiles + 4
    }
    let end = p + le(20, 4) + le(24, 4)
    guard end + 4 <= b.count else { return b }
    put(end, crc32(b, p..<end))
    return b
}

func run(_ bytes: [UInt8], _ hash: UInt64) {
    if let h = try? Bitstream.peekHeader(bytes) {
        _ = h.infoText(fileSize: bytes.count)
        _ = h.infoJSON(fileSize: bytes.count)
    }
    guard let bs = try? Bitstream(bytes: bytes) else { return }
    let h = bs.header
    guard bs.serialize() == bytes else { finding("a parsed bitstream does not serialize to its bytes") }
    var padded = 0
    for i in 0..<h.tileCount {
        let r = h.tile(i)
        padded += (r.width + 63) / 64 * 64 * ((r.height + 63) / 64 * 64)
        if padded > maxPixels { return }
    }
    // Kernel path and band size chosen by the input, so both paths see every kind of input.
    var kn = hash & 1 == 0 ? Kernels.best() : Kernels(flags: 0)
    if hash & 6 == 2 { kn.bandPixels = 1 + Int(hash >> 8 & 63) }
    guard let img = try? codec.decode(bs, kn) else { return }
    guard img.pixels.count == (h.color == .gray ? 1 : 3) * h.width * h.height else {
        finding("decoded image has \(img.pixels.count) bytes for \(h.width)x\(h.height)")
    }
    guard let ref = try? codec.decode(bs, Kernels(flags: 0)), ref == img else {
        finding("decode differs between kernel paths or band sizes (hash \(hash))")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = inputBytes(data, size)
    let hash = bytes.withUnsafeBufferPointer { inputHash($0) }
    _ = codec
    run(bytes, hash)
    if let fixed = withFixedChecksums(bytes), fixed != bytes { run(fixed, hash) }
    return 0
}
