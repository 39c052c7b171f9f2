// OpsEdgeTests.swift: checkasm edge cases of the layer kernels: LayerNorm at its bounds and at the division's ties, window attention at the int16 and logit-clamp extremes, LUT tails.
import FixedPoint
import Testing

extension LNCase {
    /// eps_q for the extremes: 0, just below 2^62 (r near 2^31, where the SIMD rows hand over to the C row), saturating near 2^64, any.
    static func extremeEps(_ rng: inout TestRNG, mode: Int) -> UInt64 {
        switch mode {
        case 0: return 0
        case 1: return (UInt64(1) << 62) - rng.next() % (UInt64(1) << 33)
        case 2: return UInt64.max - UInt64(rng.int(0, 15))
        default: return rng.next()
        }
    }

    /// The division edge of LayerNorm. One row of c values: channel p holds base + delta, the others base, so
    /// d_p = (c - 1) delta and d_i = -delta elsewhere, V = c (c - 1) delta^2; r is set through eps_q and g = 2^shift
    /// so an off-by-one t shows. A tie: delta = q k, r = 2^15 k (q odd: t = (q + 1) / 2 exactly), which a reciprocal
    /// estimate rounds down. A near miss: 2^15 |delta| - 1 = Q r (Q odd): t sits 1/2r above an integer (delta > 0,
    /// an estimate may fall below it) or below one (delta < 0, it may rise above). Nil when the draw does not fit.
    static func divisionEdge(_ rng: inout TestRNG, tie: Bool) -> LNCase? {
        let c = [8, 16, 24, 31][rng.int(0, 3)]
        var d: Int64, r: Int64
        if tie {
            let q = 2 * rng.int(1, 500) + 1, k = rng.int(1, 65535 / q)
            d = Int64(q * k); r = Int64(32768 * k)
        } else {
            let bigQ = Int64(2 * rng.int(1, 500) + 1)
            d = Int64(rng.int(32768, 65535))
            while d <= 65535 && (32768 * d - 1) % bigQ != 0 { d += 1 }
            if d > 65535 { return nil }
            r = (32768 * d - 1) / bigQ
        }
        let cc = Int64(c)
        if r * r < cc * (cc - 1) * d * d { return nil }
        if rng.int(0, 1) == 1 { d = -d }
        var l = LNCase()
        (l.rows, l.c, l.ldi, l.ldo) = (1, c, c, c)
        let shift = rng.int(17, 24), p = rng.int(0, c - 1)
        let base = d > 0 ? rng.int(-32768, 32767 - Int(d)) : rng.int(-32768 - Int(d), 32767)
        l.x = (0..<c).map { Int16($0 == p ? base + Int(d) : base) }
        l.g = [Int32](repeating: Int32(1) << Int32(shift), count: c)
        l.b = (0..<c).map { _ in Int32(rng.int(-3, 3)) }
        l.shift = Int32(shift)
        l.epsQ = UInt64(r * r - cc * (cc - 1) * d * d) + UInt64(rng.int(0, Int(min(2 * r, 1 << 30))))
        l.label = "division edge (\(tie ? "tie" : "near miss")): delta=\(d) at \(p), r=\(r)"
        return l
    }
}

extension DispatchTests {
    /// Channel counts around the vector widths and the c <= 1024 bound, int32 extremes of g and b, eps_q that puts r
    /// on either side of 2^31 or saturates, shift 62, rows with one 32767 among -32768 (|d| close to r).
    @Test func layerNormExtremes() {
        var rng = TestRNG(salt: "ops-layernorm-extremes")
        let cs = [1, 7, 8, 9, 15, 16, 17, 24, 31, 33, 1023, 1024, 1025]
        for it in 0..<(cs.count * 8) {
            let c = cs[it % cs.count], variant = it / cs.count
            var l = LNCase.random(&rng, rows: c > 900 ? 2 : rng.int(1, 5), c: c, xFill: Fill.allCases[variant % 6])
            if variant % 2 == 1 {
                l.x = (0..<(l.rows * l.ldi)).map { $0 % l.ldi == ($0 / l.ldi) % c ? 32767 : -32768 }
                l.label = "fill x=outlier"
            }
            if variant % 3 == 0 {
                l.g = (0..<c).map { $0 & 1 == 0 ? Int32.min : Int32.max }
                l.b = (0..<c).map { $0 & 2 == 0 ? Int32.max : Int32.min }
            }
            l.epsQ = LNCase.extremeEps(&rng, mode: variant % 4)
            if variant >= 6 { l.shift = 62 }
            if !checkOps("layernorm_s16", "\(l)", l.run) { return }
            if let i = firstMismatch(l.run(opsDSP(0)), l.model()) {
                Issue.record("layernorm_s16_c vs integer model: \(l) at \(i) (seed \(testSeed))")
                return
            }
        }
    }

    /// Ties and near misses of t = floor((2^15 d + r) / 2r), where an inexact reciprocal is off by one.
    @Test func layerNormDivisionEdges() {
        var rng = TestRNG(salt: "ops-layernorm-division")
        var count = 0
        for it in 0..<1500 {
            guard let l = LNCase.divisionEdge(&rng, tie: it % 2 == 0) else { continue }
            count += 1
            if !checkOps("layernorm_s16", "\(l)", l.run) { return }
            if let i = firstMismatch(l.run(opsDSP(0)), l.model()) {
                Issue.record("layernorm_s16_c vs integer model: \(l) at \(i) (seed \(testSeed))")
                return
            }
        }
        #expect(count > 1000, "too few division-edge rows drawn: \(count)")
    }

    /// q = k = -32768 (every logit wraps mod 2^32) or alternating extremes, v extremes, head dims with 16-, 8- and
    /// scalar tails, the largest window, short exp tables (most e = 0), logits straddling the clamp at +-2^24.
    @Test func windowAttnExtremes() {
        var rng = TestRNG(salt: "ops-attn-extremes")
        let lut = expLUT()
        let shapes = [(1, 32, 8), (2, 17, 4), (3, 9, 2), (1, 40, 3), (4, 1, 8), (2, 12, 1), (1, 5, 32)]
        for (it, (heads, hd, win)) in shapes.enumerated() {
            var a = AttnCase.random(&rng, wins: (1, rng.int(1, 2)), c: heads * hd, heads: heads, win: win, qk: 32767,
                                    vFill: Fill.allCases[it % 6])
            a.qkv = a.qkv.enumerated().map { i, v in
                i % a.ldq >= 2 * a.c ? v : it % 2 == 0 || i & 1 == 0 ? -32768 : 32767
            }
            a.label += it % 2 == 0 ? " q=k=-32768" : " q,k alternating -32768/32767"
            if !checkOps("window_attn_s16", "\(a)", { a.run($0, lut: lut) }) { return }
            let short = Array(lut.prefix(rng.int(1, 40)))
            if !checkOps("window_attn_s16", "\(a) exp_len=\(short.count)", { a.run($0, lut: short) }) { return }
        }
        // z = -+2^24 + s, s in [-3000, 3000]: q = (-+4096, 1, 0...), k = (4096, s, 0...), logit scale 1
        for sign in [-1, 1] {
            for (c, win) in [(2, 3), (8, 4), (24, 8)] {
                var a = AttnCase()
                (a.h, a.w, a.c, a.heads, a.win, a.ldq, a.ldo) = (2 * win, win, c, 1, win, 3 * c, c)
                (a.logitMult, a.logitShift, a.outMult, a.outShift) = (1 << 30, 30, 1 << 30, 45)
                a.qkv = []
                for _ in 0..<(a.h * a.w) {
                    var t = [Int16](repeating: 0, count: 2 * c)
                    t[0] = Int16(sign * 4096); t[1] = 1; t[c] = 4096
                    t[c + 1] = Int16(rng.int(0, 1) == 0 ? rng.int(-3000, 3000) : rng.int(-20, 20))
                    a.qkv += t + int16s(c, .random, &rng)
                }
                a.label = "logits at the clamp, sign \(sign)"
                if !checkOps("window_attn_s16", "\(a)", { a.run($0, lut: lut) }) { return }
            }
        }
    }

    /// lut16 on every length 0...40 and around the AVX2 chunk of 4096 (vector tails, chunk edges).
    @Test func lut16Tails() {
        var rng = TestRNG(salt: "ops-lut16-tails")
        let lut = int16s(65536, .random, &rng)
        for n in Array(0...40) + [4095, 4096, 4097, 8191, 8193] {
            let x = int16s(n, Fill.allCases[n % 6], &rng)
            let ok = checkOps("lut16_s16", "n=\(n) fill=\(Fill.allCases[n % 6])") { dsp in
                var out = [Int16](repeating: 0x5a5a, count: n)
                dsp.lut16_s16(&out, x, n, lut)
                return out
            }
            if !ok { return }
        }
    }
}
