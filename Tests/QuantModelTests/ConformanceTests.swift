// ConformanceTests: committed bitstreams (Tests/Conformance, made by scripts/make-conformance.sh)
// decode to pixels with the committed SHA-256, for the C reference and the best kernels at 1,
// 2 and 3 threads. GENERATE_EXPECTED=1 rewrites expected.txt (never set in CI).
import FixedPoint
import Foundation
import Testing
@testable import QuantModel

let conformanceDir = repoRoot.appendingPathComponent("Tests/Conformance")

/// SHA-256 (FIPS 180-4) of a byte array, lower-case hex.
func sha256Hex(_ message: [UInt8]) -> String {
    let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]
    var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    var m = message
    m.append(0x80)
    while m.count % 64 != 56 { m.append(0) }
    let bits = UInt64(message.count) * 8
    for i in (0..<8).reversed() { m.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i)))) }
    func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
    for chunk in stride(from: 0, to: m.count, by: 64) {
        var w = [UInt32](repeating: 0, count: 64)
        for i in 0..<16 {
            w[i] = UInt32(m[chunk + 4 * i]) << 24 | UInt32(m[chunk + 4 * i + 1]) << 16
                | UInt32(m[chunk + 4 * i + 2]) << 8 | UInt32(m[chunk + 4 * i + 3])
        }
        for i in 16..<64 {
            let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
            let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
        }
        var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
        for i in 0..<64 {
            let t1 = hh &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ k[i] &+ w[i]
            let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
            (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
        }
        for (i, v) in [a, b, c, d, e, f, g, hh].enumerated() { h[i] = h[i] &+ v }
    }
    return h.map { String(format: "%08x", $0) }.joined()
}

@Test func sha256KnownAnswers() {
    #expect(sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(sha256Hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
}

/// Decodes every .s2c in `dir` with `model` (C reference, best kernels, 1-3 threads, memory bands)
/// and compares the pixels' SHA-256 with `dir/expected.txt` (GENERATE_EXPECTED=1 rewrites it).
func checkConformance(dir: URL, model modelURL: URL, minimumFiles: Int, bands: [Int]) throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".s2c") }.sorted()
    #expect(files.count >= minimumFiles, "\(dir.path) has \(files.count) bitstreams")
    let model = try ModelFile(bytes: Array(try Data(contentsOf: modelURL)))
    let codec = try IntCodec(model: model)
    var lines: [String] = []
    for f in files {
        let bs = try Bitstream(bytes: Array(try Data(contentsOf: dir.appendingPathComponent(f))))
        let ref = try codec.decode(bs, Kernels(flags: 0))
        for threads in [1, 2, 3] {
            s2c_set_threads(Int32(threads))
            #expect(try codec.decode(bs, Kernels.best()) == ref, "\(f): best kernels, \(threads) threads")
            #expect(try codec.decode(bs, Kernels(flags: 0)) == ref, "\(f): C reference, \(threads) threads")
        }
        // Memory bands (per-pixel FFN halves, patch matrices by output rows) never change a pixel:
        // small bands cut every tensor of these small images many times.
        for band in bands {
            var kn = Kernels.best()
            kn.bandPixels = band
            #expect(try codec.decode(bs, kn) == ref, "\(f): bands of \(band) pixels")
        }
        s2c_set_threads(0)
        lines.append("\(f) \(ref.width)x\(ref.height) \(ref.color.name) \(sha256Hex(ref.pixels))")
    }
    let expectedURL = dir.appendingPathComponent("expected.txt")
    let got = lines.joined(separator: "\n") + "\n"
    if ProcessInfo.processInfo.environment["GENERATE_EXPECTED"] == "1" {
        try got.write(to: expectedURL, atomically: true, encoding: .utf8)
        return
    }
    let want = try String(contentsOf: expectedURL, encoding: .utf8)
    #expect(got == want, "decoded pixels differ from \(expectedURL.path):\n\(got)")
}

@Test func conformanceBitstreamsDecodeToExpectedPixels() throws {
    try checkConformance(dir: conformanceDir, model: conformanceDir.appendingPathComponent("nano.s2cq"),
                         minimumFiles: 6, bands: [1, 7, 100])
}

/// The shipped models: the names of Weights/*.s2cq.
func shippedModels() -> [String] {
    let files = (try? FileManager.default.contentsOfDirectory(atPath: repoRoot.appendingPathComponent("Weights").path)) ?? []
    return files.filter { $0.hasSuffix(".s2cq") }.map { String($0.dropLast(5)) }.sorted()
}

/// Each shipped model (Weights/<name>.s2cq) on a few small images (Tests/Conformance/<name>): the
/// real network end to end. The bitstreams are tied to the model's fingerprint: new weights mean
/// regenerating them (scripts/make-conformance.sh NAME).
@Test(arguments: shippedModels())
func shippedModelConformance(_ name: String) throws {
    let model = repoRoot.appendingPathComponent("Weights/\(name).s2cq")
    try checkConformance(dir: conformanceDir.appendingPathComponent(name), model: model, minimumFiles: 3,
                         bands: [7, 1000])
}
