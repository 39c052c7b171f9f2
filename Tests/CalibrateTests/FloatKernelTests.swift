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
