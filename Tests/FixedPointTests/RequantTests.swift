// RequantTests.swift: the frozen requantization rule: worked ties by hand, and an Int128 model.
import FixedPoint
import Testing

@Suite struct RequantTests {
    /// (acc, mult, shift, exact value, expected): the table in docs/kernels.md. Round half up.
    static let ties: [(Int32, Int32, Int32, String, Int64)] = [
        (5, 1 << 30, 31, "2.5", 3),
        (-5, 1 << 30, 31, "-2.5", -2),
        (3, 1 << 30, 31, "1.5", 2),
        (-3, 1 << 30, 31, "-1.5", -1),
        (1, 1 << 30, 31, "0.5", 1),
        (-1, 1 << 30, 31, "-0.5", 0),
        (7, 1, 1, "3.5", 4),
        (-7, 1, 1, "-3.5", -3),
        (-10, 1, 2, "-2.5", -2),
        (-2, 1, 2, "-0.5", 0),
        (6, 3, 2, "4.5", 5),
        (-6, 3, 2, "-4.5", -4),
        (-5, 1 << 30, 32, "-1.25", -1),
        (-7, 1 << 30, 32, "-1.75", -2),
        (5, 1 << 30, 32, "1.25", 1),
        (1000, 1_518_500_250, 35, "44.19...", 44),
        (Int32.max, Int32.max, 62, "0.99999...", 1),
        (Int32.min, Int32.max, 62, "-0.99999...", -1),
    ]

    @Test func tieTable() {
        for (acc, mult, shift, exact, want) in Self.ties {
            #expect(s2c_requant(acc, mult, shift) == want, "requant(\(acc), \(mult), \(shift)) = \(exact) should round to \(want)")
        }
    }

    @Test func saturation() {
        #expect(s2c_requant_s8(Int32.max, Int32.max, 1) == 127)
        #expect(s2c_requant_s8(Int32.min, Int32.max, 1) == -128)
        #expect(s2c_requant_s16(Int32.max, Int32.max, 1) == 32767)
        #expect(s2c_requant_s16(Int32.min, Int32.max, 1) == -32768)
        #expect(s2c_requant_s8(255, 1 << 30, 31) == 127)   // 127.5 -> 128 -> saturates
        #expect(s2c_requant_s8(-257, 1 << 30, 31) == -128) // -128.5 -> -128 (half up), no saturation needed
        #expect(s2c_requant_s8(-259, 1 << 30, 31) == -128) // -129.5 -> -129 -> saturates
        #expect(s2c_requant_clamp(100, 1, 1, 0, 20) == 20)
        #expect(s2c_requant_clamp(-100, 1, 1, 0, 20) == 0)
    }

    /// Scalar vs an independent exact model: floor(acc * mult / 2^shift + 1/2) in Int128.
    @Test func matchesInt128Model() {
        var rng = TestRNG(salt: "requant-model")
        for _ in 0..<200_000 {
            let acc = Int32(truncatingIfNeeded: rng.next())
            let mult = rng.int(0, 1) == 0 ? Int32(rng.int(1 << 30, Int(Int32.max))) : Int32(rng.int(1, Int(Int32.max)))
            let shift = Int32(rng.int(1, 62))
            let num = Int128(acc) * Int128(mult) * 2 + (Int128(1) << Int(shift))
            let want = num >> Int(shift + 1)  // floor((acc*mult + 2^(shift-1)) / 2^shift)
            let got = s2c_requant(acc, mult, shift)
            if Int128(got) != want {
                Issue.record("requant(\(acc), \(mult), \(shift)) = \(got), model \(want) (seed \(testSeed))")
                return
            }
        }
    }
}
