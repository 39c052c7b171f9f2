// CodecTests: the integer codec end to end on hybrid-nano: bitstream round trip, decoder output
// equal to the encoder's reconstruction, every size from 1x1, gray, and bad bitstreams.
import FixedPoint
import Foundation
import QuantModel
import Testing
@testable import Calibrate

func nanoIntCodec() throws -> (IntCodec, NanoCodec) {
    let nano = try nanoCodecResult.get()
    return (try IntCodec(model: nano.file), nano)
}

/// Deterministic test image: a crop of the golden pixels, tiled when larger.
func testImage(_ nano: NanoCodec, width: Int, height: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 3 * width * height)
    for y in 0..<height {
        for x in 0..<width {
            let s = 3 * ((y % nano.height) * nano.width + (x % nano.width))
            for c in 0..<3 { out[3 * (y * width + x) + c] = nano.pixels[s + c] }
        }
    }
    return out
}

@Test(arguments: [(64, 128, 1024), (1, 1, 256), (70, 50, 1152), (65, 3, 1792), (130, 77, 700)])
func codecRoundTripIsBitExact(_ size: (Int, Int, Int)) throws {
    let (codec, nano) = try nanoIntCodec()
    let (h, w, q256) = size
    let rgb = testImage(nano, width: w, height: h)
    let (bs, rec) = try codec.encode(rgb: rgb, width: w, height: h, color: .rgb, quality256: q256, Kernels.best())
    let bytes = bs.serialize()
    let parsed = try Bitstream(bytes: bytes)
    let dec = try codec.decode(parsed, Kernels.best())
    #expect(dec == rec, "\(w)x\(h): decoder output differs from the encoder's reconstruction")
    #expect(dec.width == w && dec.height == h && dec.pixels.count == 3 * w * h)
    // The C reference and other thread counts decode to the same bytes.
    s2c_set_threads(3)
    #expect(try codec.decode(parsed, Kernels(flags: 0)) == rec)
    s2c_set_threads(0)
    print("nano codec \(w)x\(h) q\(q256)/256: \(bytes.count) bytes, z \(bs.zStream.count) + y \(bs.yStream.count)")
}

@Test func grayImagesComeBackGray() throws {
    let (codec, nano) = try nanoIntCodec()
    var rgb = testImage(nano, width: 40, height: 30)
    for i in stride(from: 0, to: rgb.count, by: 3) { rgb[i + 1] = rgb[i]; rgb[i + 2] = rgb[i] }
    let (bs, rec) = try codec.encode(rgb: rgb, width: 40, height: 30, color: .gray, quality256: 1024, Kernels.best())
    let dec = try codec.decode(try Bitstream(bytes: bs.serialize()), Kernels.best())
    #expect(dec.color == .gray && dec.pixels.count == 40 * 30 && dec == rec)
}

@Test func corruptPayloadsAreRefusedNotCrashed() throws {
    let (codec, nano) = try nanoIntCodec()
    let rgb = testImage(nano, width: 64, height: 64)
    let (bs, _) = try codec.encode(rgb: rgb, width: 64, height: 64, color: .rgb, quality256: 1792, Kernels.best())
    // Streams that pass the container's CRC (rebuilt) but are not what the encoder wrote.
    var refused = 0
    var rng = SystemRandomNumberGenerator()
    for trial in 0..<40 {
        var z = bs.zStream, y = bs.yStream
        if trial % 2 == 0, !y.isEmpty { y[Int.random(in: 0..<y.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng) }
        else if !z.isEmpty { z[Int.random(in: 0..<z.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng) }
        if trial % 5 == 4 { y = Array(y.prefix(y.count / 2)) }
        let forged = try Bitstream(fingerprint: bs.header.fingerprint, width: 64, height: 64, color: .rgb,
                                   quality256: 1792, zStream: z, yStream: y)
        do {
            _ = try codec.decode(forged, Kernels.best())
        } catch {
            refused += 1
        }
    }
    print("corrupt payloads refused: \(refused) of 40 (the rest decode to some image, without crashing)")
    #expect(refused >= 20)
    let wrong = try Bitstream(fingerprint: bs.header.fingerprint ^ 1, width: 64, height: 64, color: .rgb,
                              quality256: 1792, zStream: bs.zStream, yStream: bs.yStream)
    #expect(throws: CodecError.self) { try codec.decode(wrong, Kernels.best()) }
}

@Test func oversizedImagesAreRefusedBeforeAllocating() throws {
    let (codec, _) = try nanoIntCodec()
    // A valid container announcing 4096x4096 (2^24 pixels): refused by size, not by running out of memory.
    let bs = try Bitstream(fingerprint: codec.fingerprint, width: 4096, height: 4096, color: .rgb, quality256: 1024,
                           zStream: [0, 0, 128, 0], yStream: [0, 0, 128, 0])
    #expect(throws: CodecError.self) { try codec.decode(bs, Kernels.best()) }
    // 3000x3000 pads to 3008x3008 > 2^23: refused by size before g_a runs.
    let big = [UInt8](repeating: 128, count: 3 * 3000 * 3000)
    do {
        _ = try codec.encode(rgb: big, width: 3000, height: 3000, color: .rgb, quality256: 1024, Kernels.best())
        Issue.record("a 3000x3000 image was accepted")
    } catch {
        #expect(error.message.contains("larger than this codec handles"))
    }
}
