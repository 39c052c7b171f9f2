// GemmTests.swift: checkasm for the GEMM family: every ISA variant vs the C reference, byte for byte.
import FixedPoint
import Testing

/// One GEMM problem (all strides in elements, arrays padded so no pointer is ever nil).
struct GemmCase: CustomStringConvertible {
    var m = 1, n = 1, k = 1, lda = 1, ldw = 1, ldc = 1
    var a8: [Int8] = [0], a16: [Int16] = [0], w: [Int8] = [0]
    var bias: [Int32]? = nil
    var mult: [Int32] = [1], shift: [Int32] = [1]
    var lo: Int32 = -32768, hi: Int32 = 32767
    var label = ""

    var description: String { "m=\(m) n=\(n) k=\(k) lda=\(lda) ldw=\(ldw) ldc=\(ldc) lo=\(lo) hi=\(hi) \(label)" }

    /// Random shape and data; `s16` picks the int16-activation ranges and bounds.
    /// `quant`: 0 calibrated-looking, 1 ties, 2 any legal mult/shift, 3 shift 1 or 62 only.
    /// `biasMode`: 0 |bias| <= 2^20, 1 |bias| near 2^30, 2 any Int32 (big k then wraps the int32 sums).
    static func random(_ rng: inout TestRNG, s16: Bool, m: Int, n: Int, k: Int,
                       aFill: Fill = .random, wFill: Fill = .random, quant: Int = 0, biasMode: Int = 0) -> GemmCase {
        var g = GemmCase()
        g.m = m; g.n = n; g.k = k
        g.lda = max(1, k + rng.int(0, 5)); g.ldw = max(1, k + rng.int(0, 5)); g.ldc = n + rng.int(0, 3)
        let (alo, ahi) = s16 ? (-32768, 32767) : (-128, 127)
        let avals = (0..<(m * g.lda + 1)).map { aFill.value($0, lo: alo, hi: ahi, rng: &rng) }
        g.a16 = avals.map { Int16($0) }
        g.a8 = avals.map { Int8(truncatingIfNeeded: $0) }
        g.w = (0..<(n * g.ldw + 1)).map { Int8(wFill.value($0, lo: -128, hi: 127, rng: &rng)) }
        g.bias = rng.int(0, 3) == 0 ? nil : (0..<n).map { _ in
            switch biasMode {
            case 0: return Int32(rng.int(-(1 << 20), 1 << 20))
            case 1: return Int32((rng.int(0, 1) == 0 ? 1 : -1) * ((1 << 30) - rng.int(0, 1000)))
            default: return Int32(truncatingIfNeeded: rng.next())
            }
        }
        g.mult = []; g.shift = []
        for _ in 0..<n {
            switch quant {
            case 0:  // calibrated-looking: mult in [2^30, 2^31), shift sized to the accumulator range
                g.mult.append(Int32(rng.int(1 << 30, Int(Int32.max))))
                g.shift.append(Int32(s16 ? rng.int(36, 46) : rng.int(28, 40)))
            case 1:  // ties: a power-of-two multiplier lands exactly on .5 for half the accumulators
                let s = rng.int(1, 40)
                g.shift.append(Int32(s)); g.mult.append(Int32(1) << Int32(rng.int(0, min(s - 1, 30))))
            case 2:  // anything legal
                g.mult.append(Int32(rng.int(1, Int(Int32.max)))); g.shift.append(Int32(rng.int(1, 62)))
            default:  // the extreme shifts
                g.mult.append(Int32(rng.int(1, Int(Int32.max)))); g.shift.append(rng.int(0, 1) == 0 ? 1 : 62)
            }
        }
        switch rng.int(0, 3) {
        case 0: (g.lo, g.hi) = (-128, 127)
        case 1: (g.lo, g.hi) = (0, Int32(rng.int(0, 32767)))
        case 2:
            g.lo = Int32(rng.int(-32768, 32767)); g.hi = Int32(rng.int(Int(g.lo), 32767))
        default: break
        }
        g.label = "fill a=\(aFill) w=\(wFill) quant=\(quant) bias=\(biasMode)"
        return g
    }

    /// Runs the table's gemm_s8 (or gemm_s16) on this case; untouched padding stays 0x5a5a.
    func run(_ dsp: S2CGemmDSP, s16: Bool) -> [Int16] {
        var out = [Int16](repeating: 0x5a5a, count: m * ldc)
        w.withUnsafeBufferPointer { w in
            mult.withUnsafeBufferPointer { mult in
                shift.withUnsafeBufferPointer { shift in
                    (bias ?? [0]).withUnsafeBufferPointer { b in
                        out.withUnsafeMutableBufferPointer { c in
                            let bp = bias == nil ? nil : b.baseAddress
                            if s16 {
                                a16.withUnsafeBufferPointer { a in
                                    dsp.gemm_s16?(c.baseAddress, ldc, a.baseAddress, lda, w.baseAddress, ldw, bp,
                                                 mult.baseAddress, shift.baseAddress, Int32(m), Int32(n), Int32(k), lo, hi)
                                }
                            } else {
                                a8.withUnsafeBufferPointer { a in
                                    dsp.gemm_s8?(c.baseAddress, ldc, a.baseAddress, lda, w.baseAddress, ldw, bp,
                                                mult.baseAddress, shift.baseAddress, Int32(m), Int32(n), Int32(k), lo, hi)
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}

func dsp(_ flags: UInt32) -> S2CGemmDSP {
    var d = S2CGemmDSP()
    s2c_gemm_dsp_init(&d, flags)
    return d
}

/// Compares every available SIMD level with the C reference on `g`; records the first mismatch. Returns false on one.
@discardableResult
func checkGemm(_ g: GemmCase, s16: Bool) -> Bool {
    let want = g.run(dsp(0), s16: s16)
    for level in simdLevels() {
        let got = g.run(dsp(level.flags), s16: s16)
        if let i = firstMismatch(got, want) {
            Issue.record("gemm_\(s16 ? "s16" : "s8")_\(level): \(g): first mismatch at row \(i / g.ldc) col \(i % g.ldc): got \(got[i]) want \(want[i]) (seed \(testSeed))")
            return false
        }
    }
    return true
}

/// Everything that reads the dispatch flags lives in one serialized suite with the mask test.
@Suite(.serialized) struct DispatchTests {
    @Test(arguments: [false, true]) func gemmRandomShapes(s16: Bool) {
        var rng = TestRNG(salt: "gemm-random-\(s16)")
        print("gemm_\(s16 ? "s16" : "s8"): checking levels \(simdLevels()) against c")
        let maxK = s16 ? Int(S2C_GEMM_S16_MAX_K) : 1500
        for it in 0..<300 {
            let k = it % 10 == 0 ? rng.int(0, maxK) : rng.int(0, 140)
            let g = GemmCase.random(&rng, s16: s16, m: rng.int(1, 13), n: rng.int(1, 13), k: k, quant: rng.int(0, 2))
            if !checkGemm(g, s16: s16) { return }
        }
    }

    @Test(arguments: [false, true]) func gemmExtremes(s16: Bool) {
        var rng = TestRNG(salt: "gemm-extremes-\(s16)")
        for aFill in Fill.allCases {
            for wFill in Fill.allCases {
                for quant in 0...2 {
                    // k at the documented bound: worst-case sums (-128 * -128 * k) must stay exact
                    let k = quant == 0 ? (s16 ? Int(S2C_GEMM_S16_MAX_K) : 4099) : rng.int(1, 90)
                    let g = GemmCase.random(&rng, s16: s16, m: rng.int(1, 9), n: rng.int(1, 9), k: k,
                                            aFill: aFill, wFill: wFill, quant: quant)
                    if !checkGemm(g, s16: s16) { return }
                }
            }
        }
    }

    /// Shapes that take the AVX-512 VNNI broadcast design (x86/gemm_avx512vnni.c picks it for m >= 16 and
    /// k <= 8 m (s16) / 32 m (s8)): n across channel blocks of 16 and groups of up to 4 blocks, k around its
    /// pair / quad steps and the dot kernel's 32 / 64, m across every row tile (6, 8, 12) and work item (48)
    /// remainder, extreme operands, biases near 2^30 or anywhere (wrapping sums), shift 1 and 62, clamps.
    /// (scripts/aarch64/check_main.c also runs both designs by name on every shape, m = 1...7 included.)
    @Test(arguments: [false, true]) func gemmBroadcastShapes(s16: Bool) {
        var rng = TestRNG(salt: "gemm-bcast-\(s16)")
        let ks = [0, 1, 2, 3, 4, 5, 7, 31, 32, 33, 63, 64, 65, 95, 96, 97, 127, 128, 129, 191, 192, 193]
        let ns = [1, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 80, 96, 97, 112, 129, 192]
        for it in 0..<160 {
            let k = it % 2 == 0 ? ks[(it / 2) % ks.count] : rng.int(0, s16 ? Int(S2C_GEMM_S16_MAX_K) : 600)
            let mMin = max(16, (k + (s16 ? 7 : 31)) / (s16 ? 8 : 32))
            let m = it % 3 == 0 ? mMin + rng.int(0, 12) : rng.int(mMin, mMin + 100)
            let n = it < 2 * ns.count ? ns[it % ns.count] : rng.int(1, 200)
            let aFill = it % 5 == 0 ? Fill.allCases[rng.int(0, Fill.allCases.count - 1)] : .random
            let wFill = it % 7 == 0 ? Fill.allCases[rng.int(0, Fill.allCases.count - 1)] : .random
            let g = GemmCase.random(&rng, s16: s16, m: m, n: n, k: k, aFill: aFill, wFill: wFill,
                                    quant: rng.int(0, 3), biasMode: it % 4 == 0 ? rng.int(1, 2) : 0)
            if !checkGemm(g, s16: s16) { return }
        }
        // every product at its extreme ((-32768)(-128) = 2^22 or (-128)(-128)); s16 at and past the bound,
        // where the int32 sums wrap, identically in every variant (s8 sums wrap through the Int32 biases)
        let kExtreme = s16 ? [Int(S2C_GEMM_S16_MAX_K), 2 * Int(S2C_GEMM_S16_MAX_K) + 1] : [1500]
        for (i, (aFill, wFill)) in [(Fill.allMin, Fill.allMin), (.allMin, .allMax), (.alternating, .allMin)].enumerated() {
            for k in kExtreme {
                let g = GemmCase.random(&rng, s16: s16, m: max(16, (k + (s16 ? 7 : 31)) / (s16 ? 8 : 32)) + rng.int(0, 9),
                                        n: rng.int(1, 70), k: k,
                                        aFill: aFill, wFill: wFill, quant: i, biasMode: i)
                if !checkGemm(g, s16: s16) { return }
            }
        }
    }

    /// Shapes that take the AMX tiles (x86/gemm_amx.c: m >= 64, on CPUs that report S2C_CPU_AMX): m around
    /// the 16-row work items, n around the 16-channel blocks and their pairs, k around the 64-byte chunks
    /// and far past the s16 bound (wrapping sums), extreme operands, ties, shift 1 and 62, clamps.
    @Test func gemmTileShapes() {
        var rng = TestRNG(salt: "gemm-amx")
        let ks = [1, 2, 3, 4, 5, 31, 32, 33, 63, 64, 65, 127, 128, 129, 191, 192, 193, 256, 257, 384, 513]
        let ns = [1, 15, 16, 17, 31, 32, 33, 47, 48, 49, 64, 65, 96, 97, 128, 192]
        let ms = [64, 65, 79, 80, 81, 95, 96, 111, 127, 128, 129, 200]
        for it in 0..<120 {
            let k = it % 2 == 0 ? ks[(it / 2) % ks.count] : rng.int(1, 700)
            let aFill = it % 5 == 0 ? Fill.allCases[rng.int(0, Fill.allCases.count - 1)] : .random
            let wFill = it % 7 == 0 ? Fill.allCases[rng.int(0, Fill.allCases.count - 1)] : .random
            let g = GemmCase.random(&rng, s16: true, m: ms[it % ms.count], n: it < 2 * ns.count ? ns[it % ns.count] : rng.int(1, 200),
                                    k: k, aFill: aFill, wFill: wFill, quant: rng.int(0, 3),
                                    biasMode: it % 4 == 0 ? rng.int(1, 2) : 0)
            if !checkGemm(g, s16: true) { return }
        }
        for (i, (aFill, wFill)) in [(Fill.allMin, Fill.allMin), (.allMin, .allMax), (.allMax, .allMin), (.alternating, .allMin)].enumerated() {
            for k in [Int(S2C_GEMM_S16_MAX_K), 2 * Int(S2C_GEMM_S16_MAX_K) + 1, 1000] {
                let g = GemmCase.random(&rng, s16: true, m: 64 + rng.int(0, 40), n: rng.int(1, 70), k: k,
                                        aFill: aFill, wFill: wFill, quant: i % 4, biasMode: i % 3)
                if !checkGemm(g, s16: true) { return }
            }
        }
    }

    /// Extremes must also match a Swift model (catches a C reference that overflows "consistently").
    @Test(arguments: [false, true]) func gemmReferenceModel(s16: Bool) {
        var rng = TestRNG(salt: "gemm-model-\(s16)")
        let k = s16 ? Int(S2C_GEMM_S16_MAX_K) : Int(S2C_GEMM_S8_MAX_K)
        for fill in [Fill.allMin, .alternating, .random] {
            var g = GemmCase.random(&rng, s16: s16, m: 2, n: 3, k: k, aFill: fill, wFill: .allMin)
            g.bias = [(1 << 30) - 1, -(1 << 30), 0]
            g.mult = [1 << 30, 1 << 30, 1 << 30]; g.shift = [47, 47, 47]; g.lo = -32768; g.hi = 32767
            let got = g.run(dsp(0), s16: s16)
            for i in 0..<g.m {
                for j in 0..<g.n {
                    var acc = Int64(g.bias?[j] ?? 0)
                    for t in 0..<k {
                        let a = s16 ? Int64(g.a16[i * g.lda + t]) : Int64(g.a8[i * g.lda + t])
                        acc += a * Int64(g.w[j * g.ldw + t])
                    }
                    #expect(acc >= Int64(Int32.min) && acc <= Int64(Int32.max), "bound violated by the test itself")
                    let want = s2c_requant_clamp(Int32(acc), g.mult[j], g.shift[j], g.lo, g.hi)
                    #expect(Int32(got[i * g.ldc + j]) == want, "c reference row \(i) col \(j) fill \(fill)")
                }
            }
            checkGemm(g, s16: s16)
        }
    }

    /// Rows are split across threads with no reductions: 1, 2 and 3 threads give identical bytes.
    /// (m = 77 takes the AVX-512 VNNI broadcast design, m = 13 the dot-product one.)
    @Test(arguments: [false, true]) func gemmThreadCountInvariance(s16: Bool) {
        var rng = TestRNG(salt: "gemm-threads-\(s16)")
        defer { s2c_set_threads(0) }
        for (m, n) in [(77, 45), (13, 60)] {
            let g = GemmCase.random(&rng, s16: s16, m: m, n: n, k: s16 ? 250 : 600)
            for level in allLevels.prefix(1) + simdLevels() {
                var first: [Int16]? = nil
                for threads in [1, 2, 3] {
                    s2c_set_threads(Int32(threads))
                    #expect(s2c_get_threads() == Int32(threads))
                    let out = g.run(dsp(level.flags), s16: s16)
                    if let first, let i = firstMismatch(out, first) {
                        Issue.record("gemm_\(s16 ? "s16" : "s8")_\(level): m=\(m) \(threads) threads differ from 1 at \(i)")
                    }
                    if first == nil { first = out }
                }
            }
        }
    }

    @Test func cpuMask() {
        let old = s2c_cpu_mask()
        defer { s2c_set_cpu_mask(old) }
        s2c_set_cpu_mask(0)
        #expect(s2c_cpu_flags() == 0)
        s2c_set_cpu_mask(UInt32.max)
        #expect(s2c_cpu_flags() == s2c_cpu_flags_detected())
        #if arch(x86_64)
        let d = s2c_cpu_flags_detected()
        if d & UInt32(S2C_CPU_AMX) != 0 { #expect(d & UInt32(S2C_CPU_AVX512VNNI) != 0) }
        if d & UInt32(S2C_CPU_AVX512VNNI) != 0 { #expect(d & UInt32(S2C_CPU_AVX512BW) != 0) }
        if d & UInt32(S2C_CPU_AVX512BW) != 0 { #expect(d & UInt32(S2C_CPU_AVX2) != 0) }
        #elseif arch(arm64)
        #expect(s2c_cpu_flags_detected() & UInt32(S2C_CPU_NEON) != 0)
        #endif
    }
}

@Suite struct CPUMaskParseTests {
    @Test func parse() {
        var m: UInt32 = 0
        #expect(s2c_cpu_parse_mask("0x3", &m) == 0 && m == 3)
        #expect(s2c_cpu_parse_mask("0XfF", &m) == 0 && m == 255)
        #expect(s2c_cpu_parse_mask("7", &m) == 0 && m == 7)
        #expect(s2c_cpu_parse_mask("0", &m) == 0 && m == 0)
        #expect(s2c_cpu_parse_mask("4294967295", &m) == 0 && m == UInt32.max)
        #expect(s2c_cpu_parse_mask("4294967296", &m) == -1)
        #expect(s2c_cpu_parse_mask("ff", &m) == -1)
        #expect(s2c_cpu_parse_mask("0x", &m) == -1)
        #expect(s2c_cpu_parse_mask("", &m) == -1)
        #expect(s2c_cpu_parse_mask("-1", &m) == -1)
    }
}
