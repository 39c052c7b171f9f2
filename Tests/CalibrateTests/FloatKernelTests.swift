// FloatKernelTests: convolution, pixel shuffle and layer helpers against naive double-precision loops.
import Foundation
import ImageIO
import Testing
@testable import Calibrate

/// Deterministic values in [-1, 1) (xorshift).
private func randoms(_ n: Int, seed: UInt64) -> [Float] {
    var s = seed
    return (0..<n).map { _ in
        s ^= s << 13; s ^= s >> 7; s ^= s << 17
        return Float(s >> 40) / Float(1 << 23) - 1
    }
}

/// Direct PyTorch Conv2d in double.
private func naiveConv(_ x: FloatTensor, _ w: [Float], _ b: [Float], cout: Int, k: Int, stride: Int,
                       padding: Int, groups: Int) -> FloatTensor {
    let cinG = x.channels / groups, coutG = cout / groups
    let ho = (x.height + 2 * padding - k) / stride + 1, wo = (x.width + 2 * padding - k) / stride + 1
    var out = FloatTensor(channels: cout, height: ho, width: wo)
    for co in 0..<cout {
        let g = co / coutG
        for oy in 0..<ho {
            for ox in 0..<wo {
                var s = Double(b[co])
                for ci in 0..<cinG {
                    for ky in 0..<k {
                        for kx in 0..<k {
                            let iy = oy * stride + ky - padding, ix = ox * stride + kx - padding
                            guard iy >= 0, iy < x.height, ix >= 0, ix < x.width else { continue }
                            s += Double(w[((co * cinG + ci) * k + ky) * k + kx]) * Double(x[g * cinG + ci, iy, ix])
                        }
                    }
                }
                out[co, oy, ox] = Float(s)
            }
        }
    }
    return out
}

@Test(arguments: [
    (cin: 3, cout: 8, k: 5, stride: 2, padding: 2, groups: 1),
    (cin: 6, cout: 4, k: 3, stride: 1, padding: 1, groups: 1),
    (cin: 5, cout: 7, k: 1, stride: 1, padding: 0, groups: 1),
    (cin: 6, cout: 6, k: 5, stride: 1, padding: 2, groups: 6),
    (cin: 4, cout: 4, k: 3, stride: 2, padding: 1, groups: 4),
    (cin: 4, cout: 6, k: 3, stride: 1, padding: 1, groups: 2),
    (cin: 2, cout: 3, k: 5, stride: 2, padding: 0, groups: 1),
])
func convMatchesNaive(cin: Int, cout: Int, k: Int, stride: Int, padding: Int, groups: Int) {
    let x = FloatTensor(channels: cin, height: 9, width: 11, data: randoms(cin * 99, seed: 1))
    let w = randoms(cout * cin / groups * k * k, seed: 2)
    let b = randoms(cout, seed: 3)
    let got = conv2d(x, weight: w, bias: b, cout: cout, kh: k, kw: k, stride: stride, padding: padding, groups: groups)
    let want = naiveConv(x, w, b, cout: cout, k: k, stride: stride, padding: padding, groups: groups)
    #expect(got.shape == want.shape)
    #expect(got.maxAbsDifference(want) < 1e-5)
}

@Test func pixelShuffleChannelOrder() {
    // out[c, 2h + i, 2w + j] = in[4c + 2i + j, h, w]
    let x = FloatTensor(channels: 8, height: 2, width: 3, data: (0..<48).map(Float.init))
    let y = pixelShuffle2(x)
    #expect(y.channels == 2 && y.height == 4 && y.width == 6)
    for c in 0..<2 { for h in 0..<2 { for w in 0..<3 { for i in 0..<2 { for j in 0..<2 {
        #expect(y[c, 2 * h + i, 2 * w + j] == x[4 * c + 2 * i + j, h, w])
    } } } } }
}

@Test func geluAndRounding() {
    #expect(abs(geluExact(1) - 0.8413447) < 1e-6)
    #expect(abs(geluExact(-2) - -0.04550026) < 1e-6)
    #expect(roundHalfEven(2.5) == 2 && roundHalfEven(-0.5) == 0 && roundHalfEven(1.5) == 2)
}

@Test func rgb8RoundTrip() {
    let px: [UInt8] = [0, 128, 255, 7, 8, 9]
    let t = FloatTensor(rgb8: px, width: 2, height: 1)
    #expect(t[2, 0, 0] == 1 && t[0, 0, 1] == Float(7) / 255)
    #expect(t.rgb8() == px)
    #expect(PSNR.compute(px, px) == PSNR.lossless)
}

/// The 16-lane GELU (A&S 7.1.26 erf, Cephes exp) against libm's erf in double, over a dense
/// grid, both tails and every tail length; and the gated form multiplies by the second input.
@Test func fastGeluMatchesErf() {
    var xs: [Float] = stride(from: -12.0, through: 12.0, by: 1.0 / 512).map { Float($0) }
    xs += [0, -0, 1e-30, -1e-30, 88, -88, 200, -200, Float.greatestFiniteMagnitude, -Float.greatestFiniteMagnitude]
    for n in [xs.count, 1, 15, 17, 33] {
        var got = Array(xs.prefix(n))
        got.withUnsafeMutableBufferPointer { geluInPlace($0.baseAddress!, count: n) }
        for (x, g) in zip(xs.prefix(n), got) {
            let want = 0.5 * Double(x) * (1 + erf(Double(x) / 2.0.squareRoot()))
            let err = abs(Double(g) - want)
            #expect(err <= 3e-7 * max(1, abs(want)), "GELU(\(x)) = \(g), want \(want)")
        }
    }
    var a: [Float] = [1, -2, 0.5], b: [Float] = [3, 4, -2]
    a.withUnsafeMutableBufferPointer { geluInPlace($0.baseAddress!, count: 3, times: &b) }
    for (i, x) in [Float(1), -2, 0.5].enumerated() {
        #expect(abs(a[i] - geluExact(x) * b[i]) <= 1e-6)
    }
}

/// maxAbs (16 lanes on the bit patterns) equals the scalar maximum of |x| for every length and sign.
@Test func maxAbsMatchesScalar() {
    var s: UInt64 = 7
    for n in [0, 1, 15, 16, 17, 31, 32, 33, 100, 1000] {
        let v: [Float] = (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return Float(Int64(bitPattern: s) >> 40) / 1000
        }
        let want = v.map { abs($0) }.max() ?? 0
        #expect(v.withUnsafeBufferPointer { maxAbs($0) } == want, "n \(n)")
        let neg = v.map { -abs($0) } + [-1e30]
        #expect(neg.withUnsafeBufferPointer { maxAbs($0) } == 1e30)
    }
}
