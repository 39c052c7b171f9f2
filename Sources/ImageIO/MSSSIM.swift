// MS-SSIM between two 8-bit images, computed as pytorch_msssim's `ms_ssim(X, Y, data_range=255)`
// with its defaults: 11-tap Gaussian window (sigma 1.5) applied separably with 'valid' borders,
// K1 = 0.01, K2 = 0.03, five scales weighted [0.0448, 0.2856, 0.3001, 0.2363, 0.1333],
// 2x2 average pooling between scales (padding = size % 2 on each axis, padding counted in the
// mean), relu on the contrast-structure and final SSIM terms, product of powers per channel,
// then the mean over channels. Double precision throughout (the library usually runs in float32,
// so the two agree to about 1e-5).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public enum MSSSIM {
    /// The Gaussian window size.
    public static let windowSize = 11
    /// The Gaussian sigma.
    public static let sigma = 1.5
    /// The per-scale exponents.
    public static let weights: [Double] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]

    /// The smallest side the library accepts: it asserts `min(h, w) > (11 - 1) * 2^4 = 160`.
    public static var minimumSide: Int { (windowSize - 1) * (1 << (weights.count - 1)) + 1 }

    /// MS-SSIM of two interleaved 8-bit images of the same size (`channels` bytes per pixel,
    /// rows top to bottom), with data range 255. Returns nil where pytorch_msssim refuses the
    /// input (a side of 160 pixels or fewer) or the arrays do not match the size.
    public static func compute(_ a: [UInt8], _ b: [UInt8], width: Int, height: Int, channels: Int) -> Double? {
        guard width > 0, height > 0, channels > 0, a.count == width * height * channels, b.count == a.count,
              min(width, height) >= minimumSide else { return nil }
        let win = gaussianWindow()
        var total = 0.0
        for c in 0..<channels {
            var x = [Double](repeating: 0, count: width * height)
            var y = x
            for p in 0..<(width * height) {
                x[p] = Double(a[p * channels + c])
                y[p] = Double(b[p * channels + c])
            }
            var w = width, h = height
            var value = 1.0
            for level in 0..<weights.count {
                let (ssim, cs) = ssimAndCS(x, y, width: w, height: h, win: win)
                if level < weights.count - 1 {
                    value *= pow(max(cs, 0), weights[level])
                    (x, _, _) = avgPool(x, width: w, height: h)
                    (y, w, h) = avgPool(y, width: w, height: h)
                } else {
                    value *= pow(max(ssim, 0), weights[level])
                }
            }
            total += value
        }
        return total / Double(channels)
    }

    /// `_fspecial_gauss_1d(11, 1.5)`.
    static func gaussianWindow() -> [Double] {
        let half = windowSize / 2
        let g = (0..<windowSize).map { i -> Double in
            let d = Double(i - half)
            return exp(-(d * d) / (2 * sigma * sigma))
        }
        let s = g.reduce(0, +)
        return g.map { $0 / s }
    }

    /// Mean SSIM and mean contrast-structure of one channel at one scale. The window slides
    /// over 'valid' positions only; an axis shorter than the window is left unfiltered, as
    /// the library does (with a warning).
    static func ssimAndCS(_ x: [Double], _ y: [Double], width w: Int, height h: Int, win: [Double]) -> (Double, Double) {
        let k = win.count
        let fw = w >= k, fh = h >= k
        let ow = fw ? w - k + 1 : w, oh = fh ? h - k + 1 : h
        // Horizontal pass: five moments of the (x, y) pair, rows h, columns ow.
        var hx = [Double](repeating: 0, count: h * ow)
        var hy = hx, hxx = hx, hyy = hx, hxy = hx
        x.withUnsafeBufferPointer { xp in
        y.withUnsafeBufferPointer { yp in
            for r in 0..<h {
                let row = r * w
                for c in 0..<ow {
                    var sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0
                    if fw {
                        for t in 0..<k {
                            let g = win[t], u = xp[row + c + t], v = yp[row + c + t]
                            sx += g * u; sy += g * v
                            sxx += g * u * u; syy += g * v * v; sxy += g * u * v
                        }
                    } else {
                        let u = xp[row + c], v = yp[row + c]
                        sx = u; sy = v; sxx = u * u; syy = v * v; sxy = u * v
                    }
                    let o = r * ow + c
                    hx[o] = sx; hy[o] = sy; hxx[o] = sxx; hyy[o] = syy; hxy[o] = sxy
                }
            }
        }
        }
        // Vertical pass and the SSIM / CS maps, averaged on the fly.
        let c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255)
        var ssimSum = 0.0, csSum = 0.0
        let taps = fh ? k : 1
        for r in 0..<oh {
            for c in 0..<ow {
                var mx = 0.0, my = 0.0, mxx = 0.0, myy = 0.0, mxy = 0.0
                for t in 0..<taps {
                    let g = fh ? win[t] : 1
                    let o = (r + t) * ow + c
                    mx += g * hx[o]; my += g * hy[o]
                    mxx += g * hxx[o]; myy += g * hyy[o]; mxy += g * hxy[o]
                }
                let mx2 = mx * mx, my2 = my * my, mxmy = mx * my
                let s1 = mxx - mx2, s2 = myy - my2, s12 = mxy - mxmy
                let cs = (2 * s12 + c2) / (s1 + s2 + c2)
                csSum += cs
                ssimSum += (2 * mxmy + c1) / (mx2 + my2 + c1) * cs
            }
        }
        let n = Double(oh * ow)
        return (ssimSum / n, csSum / n)
    }

    /// `F.avg_pool2d(kernel_size=2, padding=[h % 2, w % 2])`: stride 2, zero padding on both
    /// sides of an odd axis, counted in the divisor (always 4).
    static func avgPool(_ x: [Double], width w: Int, height h: Int) -> ([Double], Int, Int) {
        let ph = h % 2, pw = w % 2
        let oh = (h + 2 * ph - 2) / 2 + 1, ow = (w + 2 * pw - 2) / 2 + 1
        var out = [Double](repeating: 0, count: oh * ow)
        for r in 0..<oh {
            for c in 0..<ow {
                var s = 0.0
                for dr in 0..<2 {
                    let rr = 2 * r + dr - ph
                    guard rr >= 0, rr < h else { continue }
                    for dc in 0..<2 {
                        let cc = 2 * c + dc - pw
                        guard cc >= 0, cc < w else { continue }
                        s += x[rr * w + cc]
                    }
                }
                out[r * ow + c] = s / 4
            }
        }
        return (out, ow, oh)
    }
}
