// OpsAccuracyTests.swift: the C references of s2c_ops.h against double-precision math and index formulas.
import FixedPoint
import Foundation
import Testing

/// exp_lut[t] = round(2^15 exp(-t / 256)) for t < 2840: the last entry is 1 (32768 e^(-2839/256) = 0.502).
func expLUT() -> [UInt16] {
    (0..<2840).map { UInt16((32768 * exp(-Double($0) / 256)).rounded()) }
}

@Suite struct OpsAccuracyTests {
    // MARK: isqrt64

    /// floor(sqrt(v)) checked exactly: r^2 <= v < (r + 1)^2 in 128-bit arithmetic.
    static func isExactRoot(_ r: UInt32, _ v: UInt64) -> Bool {
        let rr = UInt64(r) * UInt64(r)  // < 2^64 for r < 2^32
        let next = UInt64(r) + 1
        let (hi, lo) = next.multipliedFullWidth(by: next)
        return rr <= v && (hi > 0 || lo > v)
    }

    @Test func isqrt64Exact() {
        var rng = TestRNG(salt: "isqrt")
        var edges: [UInt64] = [0, 1, 2, 3, 4, 5, 8, 9, 15, 16, 17, UInt64.max, UInt64.max - 1, 1 << 62, (1 << 62) - 1,
                               1 << 63, (1 << 63) - 1, UInt64(UInt32.max) * UInt64(UInt32.max),
                               UInt64(UInt32.max) * UInt64(UInt32.max) - 1]
        for _ in 0..<3000 {
            let k = UInt64(rng.next() >> UInt64(rng.int(32, 63)))  // k < 2^32
            let k2 = k * k
            edges += [k2, k2 &- 1, k2 + 2 * k, k2 + k]  // k^2 + 2k = (k + 1)^2 - 1
            edges.append(rng.next() >> UInt64(rng.int(0, 63)))
        }
        // the seed table's cells (the top 8 bits of v 4^e) at every scale, and their neighbours
        for i in UInt64(64)..<256 {
            for sh in stride(from: UInt64(0), through: 62, by: 2) {
                let v = (i << 56) >> sh
                edges += [v, v &- 1, v + 1]
            }
        }
        var checked = 0, doubleAgrees = 0
        for v in edges {
            let r = s2c_isqrt64(v)
            if !Self.isExactRoot(r, v) {
                Issue.record("isqrt64(\(v)) = \(r) is not floor(sqrt) (seed \(testSeed))")
                return
            }
            checked += 1
            if v < 1 << 52, UInt64(Double(v).squareRoot()) == UInt64(r) { doubleAgrees += 1 }
        }
        #expect(s2c_isqrt64(UInt64.max) == UInt32.max)
        #expect(s2c_isqrt64((1 << 62) - 1) == (1 << 31) - 1)
        print("isqrt64: \(checked) values exact (k^2 - 1, k^2, (k+1)^2 - 1, UINT64_MAX, random); floor(sqrt(Double)) agrees on all \(doubleAgrees) values < 2^52")
    }

    // MARK: LayerNorm

    /// Double LayerNorm with the kernel's g/b/eps semantics:
    /// out = g_i n_i / (sqrt(c) 2^(shift-14)) + b_i 2^(16-shift), n = (x - mean) / sqrt(var + eps_q / c^3).
    /// Tolerance (derived in the test): 0.5 (final rounding) + 0.5 |g_i| / 2^shift (t_i is rounded to Q14)
    /// + 0.5% of the gamma term (r is floor(sqrt(V + eps_q)), relative error < 1 / r < 0.5% for these inputs).
    /// With |g_i| <= 2^shift that is <= 1 LSB + 0.5% relative.
    @Test func layerNormMatchesDouble() {
        var rng = TestRNG(salt: "ln-accuracy")
        var maxErr = 0.0, maxRatio = 0.0, n = 0, maxErrUnit = 0.0, maxRel = 0.0
        for it in 0..<60 {
            let c = [16, 32, 64, 96, 192, 384][it % 6], rows = 8
            let amp = [64, 300, 2000, 12000, 32767][rng.int(0, 4)]
            let shift = Int32(rng.int(17, 28))  // 4 * 2^shift must fit int32 g
            let scale = Double(Int64(1) << Int64(shift))
            let gmax = it % 2 == 0 ? scale : 4 * scale  // half the cases with gain > 1 LSB per Q14 step
            let g = (0..<c).map { _ in Int32(Double(rng.int(-1_000_000, 1_000_000)) / 1_000_000 * gmax) }
            let b = (0..<c).map { _ in Int32(Double(rng.int(-1_000_000, 1_000_000)) / 1_000_000 * 8000 * scale / 65536) }
            let epsQ = UInt64(c * c * c) * UInt64(rng.int(0, 50))
            var x: [Int16] = []
            for _ in 0..<rows {
                let offset = rng.int(-32767 + amp, 32767 - amp) / 2
                x += (0..<c).map { _ in Int16(clamping: offset + rng.int(-amp, amp)) }
            }
            var out = [Int16](repeating: 0, count: rows * c)
            s2c_layernorm_s16_c(&out, c, x, c, Int32(rows), Int32(c), epsQ, g, b, shift, -32768, 32767)
            for r in 0..<rows {
                let row = (0..<c).map { Double(x[r * c + $0]) }
                let mean = row.reduce(0, +) / Double(c)
                let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(c)
                let sd = (variance + Double(epsQ) / Double(c * c * c)).squareRoot()
                for i in 0..<c {
                    let gammaTerm = sd == 0 ? 0 : Double(g[i]) * (row[i] - mean) / sd / (Double(c).squareRoot() * scale / 16384)
                    let want = min(max(gammaTerm + Double(b[i]) * 65536 / scale, -32768), 32767)
                    let err = abs(Double(out[r * c + i]) - want)
                    let tol = 0.5 + 0.5 * abs(Double(g[i])) / scale + 0.005 * abs(gammaTerm) + 1e-9
                    maxErr = max(maxErr, err); maxRatio = max(maxRatio, err / tol); n += 1
                    if it % 2 == 0 { maxErrUnit = max(maxErrUnit, err); maxRel = max(maxRel, (err - 1) / max(abs(gammaTerm), 1)) }
                    if err > tol {
                        Issue.record("layernorm row \(r) ch \(i) c=\(c) amp=\(amp): got \(out[r * c + i]) want \(want) (err \(err) > tol \(tol), seed \(testSeed))")
                        return
                    }
                }
            }
        }
        print("layernorm_s16_c vs double: \(n) outputs, max |err| \(String(format: "%.3f", maxErr)) LSB (gains up to 4 LSB per Q14 step), \(String(format: "%.3f", maxErrUnit)) LSB with |g| <= 2^shift (excess over 1 LSB relative to the gamma term: \(String(format: "%.2e", max(0, maxRel)))), max err/tolerance \(String(format: "%.3f", maxRatio))")
    }

    /// Constant rows: V = 0, so r = max(1, isqrt(eps_q)), t = 0 and out = round(b 2^16 / 2^shift) exactly.
    @Test func layerNormConstantRows() {
        for (value, epsQ) in [(Int16(0), UInt64(0)), (Int16(-32768), UInt64(0)), (Int16(32767), UInt64(5)),
                              (Int16(123), UInt64.max)] {
            let c = 48, shift: Int32 = 20
            let x = [Int16](repeating: value, count: c)
            let g = (0..<c).map { Int32($0 * 1000 - 20000) }
            let b = (0..<c).map { Int32($0 * 37 - 900) }  // includes b 2^16 / 2^20 = k + 0.5 ties
            var out = [Int16](repeating: 0, count: c)
            s2c_layernorm_s16_c(&out, c, x, c, 1, Int32(c), epsQ, g, b, shift, -32768, 32767)
            let want = b.map { Int16((Int64($0) * 65536 + (1 << 19)) >> 20) }
            #expect(out == want, "constant row \(value), eps_q \(epsQ)")
        }
    }

    // MARK: Window attention

    /// Double softmax attention from the same integer q, k, v and scale factors:
    /// logit = L logit_mult / 2^logit_shift / 256 nats, out = sum_j softmax_j v_jd 2^15 out_mult / 2^out_shift.
    /// Tolerance (derived): 1 + S sum_j |v_jd| / 2^15 (p_ij rounded to Q15, exp_lut rounded/truncated to
    /// 1/2^15 of the max) + 0.5% S sum_j p_ij |v_jd| (z rounded to 1/256 nat: e^(1/256) - 1 < 0.4%, plus the
    /// sum's rounding), S = 2^15 out_mult / 2^out_shift.
    @Test func windowAttnMatchesDouble() {
        var rng = TestRNG(salt: "attn-accuracy")
        let lut = expLUT()
        #expect(lut[0] == 32768 && lut[2839] == 1)
        var maxErr = 0.0, maxRatio = 0.0, count = 0, maxFS = 0.0
        for it in 0..<12 {
            let heads = [1, 2, 4][it % 3], hd = [8, 16, 32][(it / 3) % 3]
            let a = AttnCase.random(&rng, wins: (2, 1), c: heads * hd, heads: heads, win: 8,
                                    qk: [300, 1000, 4095][it % 3], vFill: .random)
            var b = a
            b.qkv = a.qkv.enumerated().map { $0.offset % a.ldq >= 2 * a.c ? Int16(clamping: Int($0.element) / 8) : $0.element }
            for cs in [a, b] {
                let out = cs.run(opsDSP(0), lut: lut)
                let s = 32768 * Double(cs.outMult) / Double(Int64(1) << Int64(cs.outShift))
                let lf = Double(cs.logitMult) / Double(Int64(1) << Int64(cs.logitShift)) / 256
                let n = 64, win = 8
                for wy in 0..<(cs.h / win) {
                    for wx in 0..<(cs.w / win) {
                        let row = { (t: Int) in (wy * win + t / win) * cs.w + wx * win + t % win }
                        for hh in 0..<heads {
                            for i in 0..<n {
                                var logits = [Double](repeating: 0, count: n)
                                for j in 0..<n {
                                    var l = 0
                                    for d in 0..<hd {
                                        l += Int(cs.qkv[row(i) * cs.ldq + hh * hd + d]) * Int(cs.qkv[row(j) * cs.ldq + cs.c + hh * hd + d])
                                    }
                                    logits[j] = Double(l) * lf
                                }
                                let m = logits.max() ?? 0
                                let e = logits.map { exp($0 - m) }
                                let sum = e.reduce(0, +)
                                for d in 0..<hd {
                                    var acc = 0.0, absSum = 0.0, pAbs = 0.0, vMax = 1.0
                                    for j in 0..<n {
                                        let v = Double(cs.qkv[row(j) * cs.ldq + 2 * cs.c + hh * hd + d])
                                        acc += e[j] / sum * v; absSum += abs(v); pAbs += e[j] / sum * abs(v); vMax = max(vMax, abs(v))
                                    }
                                    let want = min(max(acc * s, -32768), 32767)
                                    let got = Double(out[row(i) * cs.ldo + hh * hd + d])
                                    let err = abs(got - want), tol = 1 + s * absSum / 32768 + 0.005 * s * pAbs
                                    maxErr = max(maxErr, err); maxRatio = max(maxRatio, err / tol); count += 1
                                    maxFS = max(maxFS, err / (s * vMax))
                                    if err > tol {
                                        Issue.record("window_attn \(cs) pixel \(row(i)) head \(hh) d \(d): got \(got) want \(want) (err \(err) > tol \(tol), seed \(testSeed))")
                                        return
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        print("window_attn_s16_c vs double softmax: \(count) outputs, max |err| \(String(format: "%.3f", maxErr)) LSB = \(String(format: "%.2e", maxFS)) of S max|v|, max err/tolerance \(String(format: "%.3f", maxRatio))")
    }

    /// All logits equal (q = 0): every p is round(2^15 / 64) = 512, so out = requant(512 sum_j v_jd).
    @Test func windowAttnUniform() {
        var rng = TestRNG(salt: "attn-uniform")
        var a = AttnCase.random(&rng, wins: (1, 1), c: 8, heads: 2, win: 8)
        a.qkv = a.qkv.enumerated().map { $0.offset % a.ldq < a.c ? 0 : $0.element }
        let out = a.run(opsDSP(0), lut: expLUT())
        for i in 0..<64 {
            for ch in 0..<8 {
                let s = (0..<64).reduce(Int32(0)) { $0 + 512 * Int32(a.qkv[$1 * a.ldq + 16 + ch]) }
                #expect(out[i * a.ldo + ch] == s2c_requant_s16(s, a.outMult, a.outShift), "pixel \(i) ch \(ch)")
            }
        }
    }

    // MARK: Layout

    @Test(arguments: [(5, 2, 2), (3, 1, 1), (1, 1, 0), (3, 2, 1), (2, 2, 0), (4, 3, 0)])
    func im2colMatchesIndexFormula(_ kp: (Int, Int, Int)) {
        let (k, stride, pad) = kp
        var rng = TestRNG(salt: "im2col-\(k)-\(stride)-\(pad)")
        for _ in 0..<20 {
            let h = rng.int(max(1, k - 2 * pad), 13), w = rng.int(max(1, k - 2 * pad), 13), c = rng.int(1, 9)
            let x = int16s(h * w * c, .random, &rng)
            let oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1
            let ldo = k * k * c + rng.int(0, 3)
            var out = [Int16](repeating: 0x5a5a, count: oh * ow * ldo)
            s2c_im2col_s16(&out, ldo, x, Int32(h), Int32(w), Int32(c), Int32(k), Int32(stride), Int32(pad))
            for oy in 0..<oh {
                for ox in 0..<ow {
                    for ky in 0..<k {
                        for kx in 0..<k {
                            for ch in 0..<c {
                                let y = oy * stride + ky - pad, xx = ox * stride + kx - pad
                                let want: Int16 = y < 0 || y >= h || xx < 0 || xx >= w ? 0 : x[(y * w + xx) * c + ch]
                                let got = out[(oy * ow + ox) * ldo + (ky * k + kx) * c + ch]
                                if got != want {
                                    Issue.record("im2col k=\(k) s=\(stride) p=\(pad) h=\(h) w=\(w) c=\(c) at (\(oy),\(ox),\(ky),\(kx),\(ch)): got \(got) want \(want)")
                                    return
                                }
                            }
                        }
                    }
                    // row padding untouched
                    for t in (k * k * c)..<ldo { #expect(out[(oy * ow + ox) * ldo + t] == 0x5a5a) }
                }
            }
        }
    }

    /// Any band [oy0, oy1) of output rows equals those rows of the whole patch matrix and
    /// writes nothing else (ranges are clamped to [0, oh); empty ranges write nothing).
    @Test(arguments: [(5, 2, 2), (3, 1, 1), (3, 2, 1), (2, 2, 0)])
    func im2colRowBandsEqualWholeRows(_ kp: (Int, Int, Int)) {
        let (k, stride, pad) = kp
        var rng = TestRNG(salt: "im2col-rows-\(k)-\(stride)-\(pad)")
        for _ in 0..<20 {
            let h = rng.int(max(1, k - 2 * pad), 13), w = rng.int(max(1, k - 2 * pad), 13), c = rng.int(1, 9)
            let x = int16s(h * w * c, .random, &rng)
            let oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1
            let ldo = k * k * c
            var whole = [Int16](repeating: 0, count: oh * ow * ldo)
            s2c_im2col_s16(&whole, ldo, x, Int32(h), Int32(w), Int32(c), Int32(k), Int32(stride), Int32(pad))
            let oy0 = rng.int(-2, oh + 1), oy1 = rng.int(-1, oh + 2)
            let lo = min(oh, max(0, oy0)), hi = min(oh, oy1)
            var band = [Int16](repeating: 0x5a5a, count: (oh + 1) * ow * ldo)
            s2c_im2col_rows_s16(&band, ldo, x, Int32(h), Int32(w), Int32(c), Int32(k), Int32(stride), Int32(pad),
                                Int32(oy0), Int32(oy1))
            let n = max(0, hi - lo) * ow * ldo
            #expect(Array(band[0..<n]) == Array(whole[(lo * ow * ldo)..<(lo * ow * ldo + n)]),
                    "rows [\(oy0), \(oy1)) of k=\(k) s=\(stride) p=\(pad) \(h)x\(w)x\(c)")
            #expect(band[n...].allSatisfy { $0 == 0x5a5a }, "wrote past the band")
        }
    }

    @Test func im2colNoOutputWhenKernelLargerThanPaddedInput() {
        var out = [Int16](repeating: 0x5a5a, count: 64)
        s2c_im2col_s16(&out, 25, [1, 2, 3, 4], 2, 2, 1, 5, 1, 1)  // h + 2p = 4 < k = 5
        #expect(out.allSatisfy { $0 == 0x5a5a })
    }

    @Test func pixelShuffleMatchesIndexFormula() {
        var rng = TestRNG(salt: "pixel-shuffle")
        for _ in 0..<30 {
            let h = rng.int(1, 9), w = rng.int(1, 9), c = rng.int(1, 12)
            let x = int16s(h * w * 4 * c, .random, &rng)
            var out = [Int16](repeating: 0x5a5a, count: x.count)
            s2c_pixel_shuffle_s16(&out, x, Int32(h), Int32(w), Int32(c))
            for y in 0..<(2 * h) {
                for xx in 0..<(2 * w) {
                    for ch in 0..<c {
                        // PyTorch: out[ch, 2y+i, 2x+j] = in[4ch + 2i + j, y, x]
                        let want = x[((y / 2) * w + xx / 2) * 4 * c + 4 * ch + 2 * (y % 2) + xx % 2]
                        if out[(y * 2 * w + xx) * c + ch] != want {
                            Issue.record("pixel shuffle h=\(h) w=\(w) c=\(c) at (\(y),\(xx),\(ch))")
                            return
                        }
                    }
                }
            }
        }
    }
}
