// CheckAsm.swift: checkasm-style helpers: seeded RNG, the ISA ladder levels, input modes, first-mismatch reports.
import FixedPoint
import Foundation
import Testing

/// The seed of this test run: S2C_TEST_SEED (decimal or 0x-hex) or the clock; printed once so a failure can be replayed.
let testSeed: UInt64 = {
    var seed = UInt64(Date().timeIntervalSince1970 * 1000)
    if let env = ProcessInfo.processInfo.environment["S2C_TEST_SEED"] {
        let parsed = env.hasPrefix("0x") ? UInt64(env.dropFirst(2), radix: 16) : UInt64(env)
        if let parsed { seed = parsed }
    }
    print("FixedPointTests: seed \(seed) (replay with S2C_TEST_SEED=\(seed)), cpu flags 0x\(String(s2c_cpu_flags(), radix: 16))")
    return seed
}()

/// splitmix64: tiny, seedable, good enough for test inputs.
struct TestRNG {
    var state: UInt64

    /// A generator for one test: the run seed mixed with a per-test salt, so tests do not depend on order.
    init(salt: String) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in salt.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        state = testSeed ^ h
    }

    /// Next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Uniform integer in lo...hi.
    mutating func int(_ lo: Int, _ hi: Int) -> Int {
        lo + Int(next() % UInt64(hi - lo + 1))
    }
}

/// One rung of the dispatch ladder: the flags that select it.
struct Level: CustomStringConvertible {
    let name: String
    let flags: UInt32
    var description: String { name }
}

/// Every ladder level of this architecture, lowest first (the C reference is level 0).
let allLevels: [Level] = {
    #if arch(x86_64)
    return [Level(name: "c", flags: 0),
            Level(name: "avx2", flags: UInt32(S2C_CPU_AVX2)),
            Level(name: "avx512vnni", flags: UInt32(S2C_CPU_AVX2 | S2C_CPU_AVX512BW | S2C_CPU_AVX512VNNI)),
            Level(name: "amx", flags: UInt32(S2C_CPU_AVX2 | S2C_CPU_AVX512BW | S2C_CPU_AVX512VNNI | S2C_CPU_AMX))]
    #elseif arch(arm64)
    return [Level(name: "c", flags: 0),
            Level(name: "neon", flags: UInt32(S2C_CPU_NEON)),
            Level(name: "neon_dotprod", flags: UInt32(S2C_CPU_NEON | S2C_CPU_DOTPROD))]
    #else
    return [Level(name: "c", flags: 0)]
    #endif
}()

/// Levels this CPU (under the current S2C_CPU_MASK) can run, excluding the C reference.
func simdLevels() -> [Level] {
    let have = s2c_cpu_flags()
    return allLevels.dropFirst().filter { $0.flags & have == $0.flags }
}

/// How to fill an operand: random, or one of the extremes.
enum Fill: CaseIterable {
    case random, allMin, allMax, alternating, zeros, small

    /// The value at index i for a type spanning lo...hi.
    func value(_ i: Int, lo: Int, hi: Int, rng: inout TestRNG) -> Int {
        switch self {
        case .random: return rng.int(lo, hi)
        case .allMin: return lo
        case .allMax: return hi
        case .alternating: return i & 1 == 0 ? lo : hi
        case .zeros: return 0
        case .small: return rng.int(-3, 3)
        }
    }
}

/// Index of the first differing element, or nil when equal.
func firstMismatch<T: Equatable>(_ got: [T], _ want: [T]) -> Int? {
    if got.count != want.count { return min(got.count, want.count) }
    return zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset
}
