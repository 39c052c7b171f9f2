// MS-SSIM against reference values from pytorch_msssim 's ms_ssim(X, Y, data_range=255)
// (float64 tensors) on deterministic images built the same way in Python:
//   a = (r*5 + c*3 + k*50 + (r*c)%7) % 256
//   b = clip(a - (a*k)//8 + (r*31 + c*17 + k*7)%61 - 30, 0, 255)
// with r the row, c the column and k the channel.
import Testing
@testable import ImageIO

private func pair(width w: Int, height h: Int, channels ch: Int) -> ([UInt8], [UInt8]) {
    var a = [UInt8](repeating: 0, count: w * h * ch), b = a
    for r in 0..<h {
        for c in 0..<w {
            for k in 0..<ch {
                let va = (r * 5 + c * 3 + k * 50 + (r * c) % 7) % 256
                let vb = min(255, max(0, va - (va * k) / 8 + (r * 31 + c * 17 + k * 7) % 61 - 30))
                a[(r * w + c) * ch + k] = UInt8(va)
                b[(r * w + c) * ch + k] = UInt8(vb)
            }
        }
    }
    return (a, b)
}

@Suite struct MSSSIMTests {
    @Test(arguments: [
        (203, 177, 3, 0.9445018696),  // odd sides: padded pooling on both axes
        (176, 240, 1, 0.9648320754),  // grayscale, even sides
        (161, 161, 3, 0.9445390336),  // the smallest accepted side
    ])
    func matchesPytorchMSSSIM(_ w: Int, _ h: Int, _ ch: Int, _ reference: Double) throws {
        let (a, b) = pair(width: w, height: h, channels: ch)
        let v = try #require(MSSSIM.compute(a, b, width: w, height: h, channels: ch))
        #expect(abs(v - reference) < 1e-6)
    }

    @Test func identicalImagesGiveExactlyOne() throws {
        let (a, _) = pair(width: 203, height: 177, channels: 3)
        #expect(MSSSIM.compute(a, a, width: 203, height: 177, channels: 3) == 1)
    }

    @Test func refusesWhatTheLibraryRefuses() {
        let (a, b) = pair(width: 160, height: 300, channels: 3)
        #expect(MSSSIM.compute(a, b, width: 160, height: 300, channels: 3) == nil)
        let (c, d) = pair(width: 300, height: 160, channels: 1)
        #expect(MSSSIM.compute(c, d, width: 300, height: 160, channels: 1) == nil)
        #expect(MSSSIM.compute(c, d, width: 300, height: 161, channels: 1) == nil)  // size mismatch
        #expect(MSSSIM.minimumSide == 161)
    }
}
