// GemmGatedTests.swift: checkasm for the fused GEMMs: gemm_gated_s16 (fc1 + gated product in one kernel)
// against its definition, gemm_s16_c over all 2 hc channels followed by gated_s16_c, and gemm_lut_s16
// (pw1 + GELU table) against gemm_s16_c followed by the lookup; every ladder level's table entry.
import FixedPoint
import Testing

/// One fused problem: a GEMM of 2 hc output channels (a | b) and the gated product's parameters.
struct GemmGatedCase: CustomStringConvertible {
    var gemm: GemmCase
    var hc = 1
    var ldo = 1
    var lut: [Int16] = []
    var gmult: Int32 = 1, gshift: Int32 = 1, glo: Int32 = -32768, ghi: Int32 = 32767

    var description: String { "\(gemm) hc=\(hc) ldo=\(ldo) gmult=\(gmult) gshift=\(gshift) glo=\(glo) ghi=\(ghi)" }

    static func random(_ rng: inout TestRNG, m: Int, hc: Int, k: Int, aFill: Fill = .random, wFill: Fill = .random,
                       lutFill: Fill = .random, quant: Int = 0, gquant: Int = 0, biasMode: Int = 0) -> GemmGatedCase {
        var g = GemmGatedCase(gemm: GemmCase.random(&rng, s16: true, m: m, n: 2 * hc, k: k, aFill: aFill, wFill: wFill,
                                                    quant: quant, biasMode: biasMode))
        g.hc = hc
        g.ldo = hc + rng.int(0, 3)
        g.lut = int16s(65536, lutFill, &rng)
        let (mu, sh) = randomQuant(&rng, n: 1, mode: gquant, shifts: 28...40)
        (g.gmult, g.gshift) = (mu[0], sh[0])
        (g.glo, g.ghi) = randomRange(&rng)
        return g
    }

    /// The definition: gemm_s16_c into a buffer of 2 hc channels a row, then gated_s16_c.
    func reference() -> [Int16] {
        var ab = [Int16](repeating: 0, count: gemm.m * 2 * hc)
        var out = [Int16](repeating: 0x5a5a, count: gemm.m * ldo)
        gemm.w.withUnsafeBufferPointer { w in
            (gemm.bias ?? [0]).withUnsafeBufferPointer { b in
                s2c_gemm_s16_c(&ab, 2 * hc, gemm.a16, gemm.lda, w.baseAddress, gemm.ldw, gemm.bias == nil ? nil : b.baseAddress,
                               gemm.mult, gemm.shift, Int32(gemm.m), Int32(2 * hc), Int32(gemm.k), gemm.lo, gemm.hi)
            }
        }
        s2c_gated_s16_c(&out, ldo, ab, 2 * hc, Int32(gemm.m), Int32(hc), lut, gmult, gshift, glo, ghi)
        return out
    }

    /// The table's gemm_gated_s16; untouched padding stays 0x5a5a.
    func run(_ d: S2CGemmDSP) -> [Int16] {
        var out = [Int16](repeating: 0x5a5a, count: gemm.m * ldo)
        gemm.w.withUnsafeBufferPointer { w in
            (gemm.bias ?? [0]).withUnsafeBufferPointer { b in
                d.gemm_gated_s16(&out, ldo, gemm.a16, gemm.lda, w.baseAddress, gemm.ldw, gemm.bias == nil ? nil : b.baseAddress,
                                 gemm.mult, gemm.shift, Int32(gemm.m), Int32(hc), Int32(gemm.k), gemm.lo, gemm.hi,
                                 lut, gmult, gshift, glo, ghi)
            }
        }
        return out
    }
}

/// Every level (the C reference included) against the definition; records the first mismatch.
@discardableResult
func checkGemmGated(_ g: GemmGatedCase) -> Bool {
    let want = g.reference()
    for level in allLevels.prefix(1) + simdLevels() {
        let got = g.run(dsp(level.flags))
        if let i = firstMismatch(got, want) {
            Issue.record("gemm_gated_s16_\(level): \(g): first mismatch at row \(i / g.ldo) col \(i % g.ldo): got \(got[i]) want \(want[i]) (seed \(testSeed))")
            return false
        }
    }
    return true
}

@Suite struct GemmGatedTests {
    /// Shapes on both sides of the broadcast kernels' threshold (x86: m >= 12 / 16 and k <= 8 m), hc across
    /// vectors of 8, blocks of 16 and the AVX-512 groups of two blocks, k odd / even / 0, m across the row
    /// tiles (6, 12) and work items (48), and every fill, quantization and clamp mode.
    @Test func gemmGatedShapes() {
        var rng = TestRNG(salt: "gemm-gated")
        let hcs = [1, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 48, 63, 64, 65, 96, 97]
        let ks = [0, 1, 2, 3, 5, 31, 32, 33, 48, 95, 96, 97, 128, 129]
        for it in 0..<120 {
            let m = it % 4 == 0 ? rng.int(1, 11) : it % 4 == 1 ? rng.int(12, 60) : rng.int(90, 110)
            let hc = it < 68 ? hcs[it % hcs.count] : rng.int(1, 130)
            let k = it % 3 == 0 ? ks[(it / 3) % ks.count] : rng.int(0, it % 7 == 0 ? Int(S2C_GEMM_S16_MAX_K) : 200)
            let fills = Fill.allCases
            let g = GemmGatedCase.random(&rng, m: m, hc: hc, k: k,
                                         aFill: it < 36 ? fills[it % 6] : .random, wFill: it < 36 ? fills[(it / 6) % 6] : .random,
                                         lutFill: it % 3 == 0 ? fills[rng.int(0, 5)] : .random,
                                         quant: rng.int(0, 3), gquant: rng.int(0, 2), biasMode: it % 4 == 0 ? rng.int(1, 2) : 0)
            if !checkGemmGated(g) { return }
        }
        // every product at its extreme, k at the bound; every LUT entry extreme (m 70 and 100: the AMX tiles)
        for (i, (aFill, wFill)) in [(Fill.allMin, Fill.allMin), (.allMax, .allMin), (.alternating, .allMax)].enumerated() {
            let g = GemmGatedCase.random(&rng, m: 40 + 30 * i, hc: 40, k: Int(S2C_GEMM_S16_MAX_K), aFill: aFill, wFill: wFill,
                                         lutFill: [Fill.allMin, .allMax, .alternating][i], quant: i, gquant: i % 3, biasMode: i)
            if !checkGemmGated(g) { return }
        }
    }

    /// Rows are split across threads with no reductions: 1, 2 and 3 threads give identical bytes.
    @Test func gemmGatedThreadCountInvariance() {
        var rng = TestRNG(salt: "gemm-gated-threads")
        defer { s2c_set_threads(0) }
        let g = GemmGatedCase.random(&rng, m: 301, hc: 72, k: 96)
        for level in allLevels.prefix(1) + simdLevels() {
            var first: [Int16]? = nil
            for threads in [1, 2, 3] {
                s2c_set_threads(Int32(threads))
                let out = g.run(dsp(level.flags))
                if let first, let i = firstMismatch(out, first) {
                    Issue.record("gemm_gated_s16_\(level): \(threads) threads differ from 1 at \(i)")
                }
                if first == nil { first = out }
            }
        }
        checkGemmGated(g)
    }
}

/// gemm_lut_s16 on a GEMM case: every level against gemm_s16_c followed by lut[(uint16_t)c].
@discardableResult
func checkGemmLUT(_ g: GemmCase, lut: [Int16]) -> Bool {
    var want = g.run(dsp(0), s16: true)
    for i in 0..<g.m {
        for j in 0..<g.n { want[i * g.ldc + j] = lut[Int(UInt16(bitPattern: want[i * g.ldc + j]))] }
    }
    for level in allLevels.prefix(1) + simdLevels() {
        let d = dsp(level.flags)
        var got = [Int16](repeating: 0x5a5a, count: g.m * g.ldc)
        g.w.withUnsafeBufferPointer { w in
            (g.bias ?? [0]).withUnsafeBufferPointer { b in
                d.gemm_lut_s16(&got, g.ldc, g.a16, g.lda, w.baseAddress, g.ldw, g.bias == nil ? nil : b.baseAddress,
                               g.mult, g.shift, Int32(g.m), Int32(g.n), Int32(g.k), g.lo, g.hi, lut)
            }
        }
        if let i = firstMismatch(got, want) {
            Issue.record("gemm_lut_s16_\(level): \(g): first mismatch at row \(i / g.ldc) col \(i % g.ldc): got \(got[i]) want \(want[i]) (seed \(testSeed))")
            return false
        }
    }
    return true
}

extension GemmGatedTests {
    /// gemm_lut_s16 across the broadcast kernels' shapes and the small-m fallback, extreme fills and tables.
    @Test func gemmLUTShapes() {
        var rng = TestRNG(salt: "gemm-lut")
        let ns = [1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 96, 97, 192]
        for it in 0..<100 {
            let m = it % 4 == 0 ? rng.int(1, 11) : it % 4 == 1 ? rng.int(12, 60) : rng.int(90, 110)
            let k = it % 3 == 0 ? [0, 1, 2, 3, 33, 48, 96, 97][it % 8] : rng.int(0, it % 7 == 0 ? Int(S2C_GEMM_S16_MAX_K) : 200)
            let fills = Fill.allCases
            let g = GemmCase.random(&rng, s16: true, m: m, n: it < 51 ? ns[it % ns.count] : rng.int(1, 200), k: k,
                                    aFill: it < 36 ? fills[it % 6] : .random, wFill: it < 36 ? fills[(it / 6) % 6] : .random,
                                    quant: rng.int(0, 3), biasMode: it % 4 == 0 ? rng.int(1, 2) : 0)
            if !checkGemmLUT(g, lut: int16s(65536, it % 3 == 0 ? fills[rng.int(0, 5)] : .random, &rng)) { return }
        }
    }
}
