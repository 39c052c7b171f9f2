// FloatKernels: the float runtime's arithmetic (sgemm, im2col convolution, depthwise, GELU, softmax).
import _COpenBLAS
import Foundation

/// C[m x n] = A[m x k] * B[k x n] + beta * C, all row-major with the given leading dimensions.
@inline(__always)
func sgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
           beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Largest im2col buffer, in floats (32 MB); bigger convolutions run in bands of output rows.
let im2colBudget = 8 << 20

/// PyTorch Conv2d (cross-correlation, zero padding, groups) on one NCHW image.
/// weight: [cout, cin / groups, kh, kw]; bias: [cout].
func conv2d(_ x: FloatTensor, weight: [Float], bias: [Float], cout: Int, kh: Int, kw: Int,
            stride: Int, padding: Int, groups: Int) -> FloatTensor {
    let cin = x.channels
    precondition(cin % groups == 0 && cout % groups == 0)
    let cinG = cin / groups, coutG = cout / groups
    precondition(weight.count == cout * cinG * kh * kw && bias.count == cout)
    let hOut = (x.height + 2 * padding - kh) / stride + 1
    let wOut = (x.width + 2 * padding - kw) / stride + 1
    let pOut = hOut * wOut
    // Bias first (written straight into fresh storage), then C += W * cols.
    let initial = [Float](unsafeUninitializedCapacity: cout * pOut) { buf, count in
        for co in 0..<cout {
            (buf.baseAddress! + co * pOut).initialize(repeating: bias[co], count: pOut)
        }
        count = cout * pOut
    }
    var out = FloatTensor(channels: cout, height: hOut, width: wOut, data: initial)
    if groups == cin && cinG == 1 && coutG == 1 {
        depthwise(x, weight: weight, kh: kh, kw: kw, stride: stride, padding: padding, out: &out)
        return out
    }
    let kk = cinG * kh * kw
    let pointwise = kh == 1 && kw == 1 && stride == 1 && padding == 0
    let band = max(1, min(hOut, im2colBudget / max(1, kk * wOut)))
    var cols = pointwise ? [] : [Float](repeating: 0, count: kk * band * wOut)
    weight.withUnsafeBufferPointer { wp in
        x.data.withUnsafeBufferPointer { xp in
            out.data.withUnsafeMutableBufferPointer { op in
                cols.withUnsafeMutableBufferPointer { cp in
                    for g in 0..<groups {
                        let a = wp.baseAddress! + g * coutG * kk
                        let c = op.baseAddress! + g * coutG * pOut
                        if pointwise {
                            sgemm(m: coutG, n: pOut, k: kk, a: a, lda: kk, b: xp.baseAddress! + g * cinG * pOut,
                                  ldb: pOut, beta: 1, c: c, ldc: pOut)
                            continue
                        }
                        var y0 = 0
                        while y0 < hOut {
                            let rows = min(band, hOut - y0)
                            im2col(xp.baseAddress! + g * cinG * x.plane, cin: cinG, h: x.height, w: x.width,
                                   kh: kh, kw: kw, stride: stride, padding: padding,
                                   y0: y0, rows: rows, wOut: wOut, cols: cp.baseAddress!)
                            sgemm(m: coutG, n: rows * wOut, k: kk, a: a, lda: kk, b: cp.baseAddress!,
                                  ldb: rows * wOut, beta: 1, c: c + y0 * wOut, ldc: pOut)
                            y0 += rows
                        }
                    }
                }
            }
        }
    }
    return out
}

/// Output columns ox in lo..<hi whose input column ox * stride + k - padding lies in [0, w).
@inline(__always)
private func validColumns(w: Int, wOut: Int, k: Int, stride: Int, padding: Int) -> (Int, Int) {
    let first = padding - k                 // ox * stride >= first
    let last = w - 1 + padding - k          // ox * stride <= last
    let lo = first <= 0 ? 0 : (first + stride - 1) / stride
    let hi = last < 0 ? 0 : min(wOut, last / stride + 1)
    return (lo, max(lo, hi))
}

/// cols[(ci * kh + ky) * kw + kx][r * wOut + ox] = x[ci][(y0 + r) * s + ky - p][ox * s + kx - p], 0 outside.
private func im2col(_ x: UnsafePointer<Float>, cin: Int, h: Int, w: Int, kh: Int, kw: Int, stride: Int,
                    padding: Int, y0: Int, rows: Int, wOut: Int, cols: UnsafeMutablePointer<Float>) {
    let n = rows * wOut
    for ci in 0..<cin {
        for ky in 0..<kh {
            for kx in 0..<kw {
                let row = cols + ((ci * kh + ky) * kw + kx) * n
                let (lo, hi) = validColumns(w: w, wOut: wOut, k: kx, stride: stride, padding: padding)
                for r in 0..<rows {
                    let dst = row + r * wOut
                    let iy = (y0 + r) * stride + ky - padding
                    if iy < 0 || iy >= h || lo >= hi {
                        dst.update(repeating: 0, count: wOut)
                        continue
                    }
                    let src = x + (ci * h + iy) * w
                    if lo > 0 { dst.update(repeating: 0, count: lo) }
                    if hi < wOut { (dst + hi).update(repeating: 0, count: wOut - hi) }
                    if stride == 1 {
                        (dst + lo).update(from: src + (lo + kx - padding), count: hi - lo)
                    } else {
                        for ox in lo..<hi { dst[ox] = src[ox * stride + kx - padding] }
                    }
                }
            }
        }
    }
}

/// Depthwise convolution (groups == cin == cout) added into `out` (which holds the bias).
private func depthwise(_ x: FloatTensor, weight: [Float], kh: Int, kw: Int, stride: Int, padding: Int,
                       out: inout FloatTensor) {
    let h = x.height, w = x.width, hOut = out.height, wOut = out.width
    weight.withUnsafeBufferPointer { wp in
        x.data.withUnsafeBufferPointer { xp in
            out.data.withUnsafeMutableBufferPointer { op in
                for c in 0..<x.channels {
                    let src = xp.baseAddress! + c * h * w
                    let dst = op.baseAddress! + c * hOut * wOut
                    for ky in 0..<kh {
                        for kx in 0..<kw {
                            let wv = wp[(c * kh + ky) * kw + kx]
                            let (lo, hi) = validColumns(w: w, wOut: wOut, k: kx, stride: stride, padding: padding)
                            guard lo < hi else { continue }
                            for oy in 0..<hOut {
                                let iy = oy * stride + ky - padding
                                if iy < 0 || iy >= h { continue }
                                let s = src + iy * w + kx - padding
                                let d = dst + oy * wOut
                                if stride == 1 {
                                    for ox in lo..<hi { d[ox] += wv * s[ox] }
                                } else {
                                    for ox in lo..<hi { d[ox] += wv * s[ox * stride] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Exact GELU: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), with libm's erf (the reference the
/// fast `geluInPlace` is tested against).
@inline(__always)
func geluExact(_ x: Float) -> Float {
    0.5 * x * (1 + erf(x * Float(0.70710678118654752440)))
}

/// e^x on 16 lanes (Cephes expf: x = k ln 2 + r, |r| <= ln 2 / 2, degree-5 polynomial; relative
/// error about 1e-7); inputs below -87.3 give 0.
@inline(__always)
func exp16(_ v: SIMD16<Float>) -> SIMD16<Float> {
    // Clamped with compares and selects (SIMD's clamped/pointwiseMin are not inlined).
    let lo = SIMD16<Float>(repeating: -87.3), hi = SIMD16<Float>(repeating: 88.3)
    let x = v.replacing(with: lo, where: v .< lo).replacing(with: hi, where: v .> hi)
    // k = round(x / ln 2) by the 1.5 * 2^23 trick: adding it leaves k in the low mantissa bits.
    let magic = SIMD16<Float>(repeating: 12_582_912)
    let biased = x * 1.44269504088896341 + magic
    let k = biased - magic
    let r = x - k * 0.693359375 + k * 2.12194440e-4
    var p = SIMD16<Float>(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let y = p * r * r + r + 1
    let bits = (unsafeBitCast(biased, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    let scale = unsafeBitCast(bits, to: SIMD16<Float>.self)
    return (y * scale).replacing(with: 0, where: v .< lo)
}

/// GELU on 16 lanes: 0.5 x (1 + erf(x / sqrt 2)) with erf from Abramowitz & Stegun 7.1.26
/// (|error| <= 1.5e-7), the formula PyTorch's vectorized CPU kernels use.
@inline(__always)
func gelu16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let z = x * 0.70710678118654752440
    let a = z.replacing(with: -z, where: z .< 0)
    let t = 1 / (1 + 0.3275911 * a)
    var p = SIMD16<Float>(repeating: 1.061405429)
    p = p * t - 1.453152027
    p = p * t + 1.421413741
    p = p * t - 0.284496736
    p = p * t + 0.254829592
    let e = 1 - p * t * exp16(-a * a)                   // erf(|z|)
    let erfz = e.replacing(with: -e, where: z .< 0)
    return 0.5 * x * (1 + erfz)
}

/// x[i] = GELU(x[i]) (gelu16), and when `times` is given, x[i] = GELU(x[i]) * times[i]. Every
/// element goes through the same 16-lane code (the tail is padded), so its value does not
/// depend on its position.
func geluInPlace(_ x: UnsafeMutablePointer<Float>, count n: Int, times: UnsafePointer<Float>? = nil) {
    let raw = UnsafeMutableRawPointer(x)
    var i = 0
    while i + 16 <= n {
        var g = gelu16(raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
        if let times { g *= UnsafeRawPointer(times).loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self) }
        raw.storeBytes(of: g, toByteOffset: 4 * i, as: SIMD16<Float>.self)
        i += 16
    }
    if i < n {
        var v = SIMD16<Float>(repeating: 0), m = SIMD16<Float>(repeating: 0)
        for j in i..<n {
            v[j - i] = x[j]
            m[j - i] = times?[j] ?? 1
        }
        let g = gelu16(v) * m
        for j in i..<n { x[j] = g[j - i] }
    }
}

/// Numerically stable softmax of one row in place.
@inline(__always)
func softmaxRow(_ r: UnsafeMutablePointer<Float>, _ n: Int) {
    var m = -Float.infinity
    for i in 0..<n { m = max(m, r[i]) }
    var s: Float = 0
    for i in 0..<n {
        let e = exp(r[i] - m)
        r[i] = e
        s += e
    }
    let inv = 1 / s
    for i in 0..<n { r[i] *= inv }
}

/// PixelShuffle(2): out[c, 2h + i, 2w + j] = in[4c + 2i + j, h, w] (PyTorch's channel order).
func pixelShuffle2(_ x: FloatTensor) -> FloatTensor {
    precondition(x.channels % 4 == 0)
    let c = x.channels / 4, h = x.height, w = x.width
    var out = FloatTensor(channels: c, height: 2 * h, width: 2 * w)
    x.data.withUnsafeBufferPointer { xp in
        out.data.withUnsafeMutableBufferPointer { op in
            for ch in 0..<c {
                for i in 0..<2 {
                    for j in 0..<2 {
                        let src = xp.baseAddress! + (4 * ch + 2 * i + j) * h * w
                        for y in 0..<h {
                            let d = op.baseAddress! + (ch * 2 * h + 2 * y + i) * 2 * w + j
                            let s = src + y * w
                            for xx in 0..<w { d[2 * xx] = s[xx] }
                        }
                    }
                }
            }
        }
    }
    return out
}

/// Largest |x| of a buffer (0 when empty). On the bit patterns with the sign cleared, whose
/// unsigned order is the order of the magnitudes, 16 lanes at a time.
func maxAbs(_ xs: UnsafeBufferPointer<Float>) -> Float {
    guard let base = xs.baseAddress else { return 0 }
    let raw = UnsafeRawPointer(base)
    let n = xs.count, blocks = n / 16
    let mask = SIMD16<UInt32>(repeating: 0x7FFF_FFFF)
    var a = SIMD16<UInt32>(repeating: 0), b = a
    var i = 0
    // Max by compare and select (SIMD's pointwiseMax is not inlined).
    @inline(__always) func vmax(_ x: SIMD16<UInt32>, _ y: SIMD16<UInt32>) -> SIMD16<UInt32> { x.replacing(with: y, where: y .> x) }
    while i + 1 < blocks {
        a = vmax(a, raw.loadUnaligned(fromByteOffset: i * 64, as: SIMD16<UInt32>.self) & mask)
        b = vmax(b, raw.loadUnaligned(fromByteOffset: (i + 1) * 64, as: SIMD16<UInt32>.self) & mask)
        i += 2
    }
    if i < blocks { a = vmax(a, raw.loadUnaligned(fromByteOffset: i * 64, as: SIMD16<UInt32>.self) & mask) }
    var m = vmax(a, b).max()
    for j in (blocks * 16)..<n { m = max(m, base[j].bitPattern & 0x7FFF_FFFF) }
    return Float(bitPattern: m)
}
