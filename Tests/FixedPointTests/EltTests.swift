// EltTests.swift: elementwise kernels vs a Swift model, every ladder level this CPU has (the C reference included).
import FixedPoint
import Testing

@Suite struct EltTests {
    static func model(_ a: Int16, _ ma: Int32, _ b: Int16, _ mb: Int32, _ shift: Int32, _ lo: Int32, _ hi: Int32) -> Int16 {
        let v = (Int64(a) * Int64(ma) + Int64(b) * Int64(mb) + (Int64(1) << Int64(shift - 1))) >> Int64(shift)
        return Int16(min(max(v, Int64(lo)), Int64(hi)))
    }

    @Test func addRequantTies() {
        // 1*2^30 + 2*2^30 = 3 * 2^30 -> 1.5 at shift 31 -> 2; -1.5 -> -1 (round half up)
        var out: [Int16] = [0, 0]
        let a: [Int16] = [1, -1], b: [Int16] = [2, -2]
        s2c_add_requant_s16_c(&out, a, 1 << 30, b, 1 << 30, 31, 2, -32768, 32767)
        #expect(out == [2, -1])
    }
}

// Serialized with the CPU-mask test, which changes the flags simdLevels() reads.
extension DispatchTests {
    @Test func addRequantS16() {
        for level in allLevels.prefix(1) + simdLevels() {
            var rng = TestRNG(salt: "add-requant")
            var d = S2CEltDSP()
            s2c_elt_dsp_init(&d, level.flags)
            for it in 0..<48 {
                let n = it < 20 ? 4099 : rng.int(1, 40)
                let fill = Fill.allCases[it % Fill.allCases.count]
                let a = (0..<n).map { Int16(fill.value($0, lo: -32768, hi: 32767, rng: &rng)) }
                let b = (0..<n).map { Int16(Fill.random.value($0, lo: -32768, hi: 32767, rng: &rng)) }
                // 1...62, codec-like, and around 17 (AVX2 takes 32-bit lanes from 17 up)
                let shift = Int32(it >= 40 ? 15 + it % 4 : it % 4 == 0 ? rng.int(1, 62) : rng.int(28, 34))
                let ma = Int32(rng.int(1, Int(Int32.max))), mb = Int32(rng.int(1, Int(Int32.max)))
                let (lo, hi): (Int32, Int32) = it % 2 == 0 ? (-32768, 32767) : (-128, 127)
                var out = [Int16](repeating: 0, count: n)
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        out.withUnsafeMutableBufferPointer { op in
                            d.add_requant_s16?(op.baseAddress, ap.baseAddress, ma, bp.baseAddress, mb, shift, n, lo, hi)
                        }
                    }
                }
                let want = (0..<n).map { EltTests.model(a[$0], ma, b[$0], mb, shift, lo, hi) }
                if let i = firstMismatch(out, want) {
                    Issue.record("add_requant_s16_\(level) at \(i): a=\(a[i]) b=\(b[i]) ma=\(ma) mb=\(mb) shift=\(shift): got \(out[i]) want \(want[i]) (seed \(testSeed))")
                    return
                }
            }
        }
    }
}
