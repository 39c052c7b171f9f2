// RansTests.swift: rANS round trips (random CDFs, frequency-1 symbols, raw bits) and hostile input.
import FixedPoint
import Testing

/// A random legal CDF over `nsym` symbols; some symbols get the minimum frequency 1.
func randomCDF(_ rng: inout TestRNG, nsym: Int) -> [UInt32] {
    let scale = Int(S2C_RANS_SCALE)
    let f = (0..<nsym).map { _ in rng.int(0, 3) == 0 ? 0 : rng.int(0, 5000) }
    let total = max(1, f.reduce(0, +))
    var cdf: [UInt32] = [0]
    for s in 0..<nsym { cdf.append(cdf[s] + UInt32(f[s] * (scale - nsym) / total + 1)) }  // every freq >= 1
    cdf[nsym] = UInt32(scale)  // leftover to the last symbol
    return cdf
}

/// One coded item: a CDF symbol or raw bits.
enum Item: Equatable {
    case sym(cdf: Int, value: Int)
    case bits(count: Int, value: UInt32)
}

/// Encodes `items` (in reverse, as rANS requires) and returns the stream bytes, or nil on encoder overflow.
func ransEncode(_ items: [Item], cdfs: [[UInt32]], capacity: Int) -> [UInt8]? {
    var buf = [UInt8](repeating: 0, count: capacity)
    return buf.withUnsafeMutableBufferPointer { b -> [UInt8]? in
        var e = S2CRansEnc()
        s2c_rans_enc_init(&e, b.baseAddress, capacity)
        for item in items.reversed() {
            switch item {
            case let .sym(c, v): cdfs[c].withUnsafeBufferPointer { s2c_rans_put_cdf(&e, $0.baseAddress, Int32(v)) }
            case let .bits(n, v): s2c_rans_put_bits(&e, v, Int32(n))
            }
        }
        s2c_rans_enc_flush(&e)
        if e.error != 0 { return nil }
        return Array(UnsafeBufferPointer(start: s2c_rans_enc_data(&e), count: s2c_rans_enc_size(&e)))
    }
}

/// Decodes items shaped like `template` from `stream`; returns them with the decoder's final state.
func ransDecode(_ stream: [UInt8], like template: [Item], cdfs: [[UInt32]]) -> ([Item], S2CRansDec) {
    var d = S2CRansDec()
    var out: [Item] = []
    stream.withUnsafeBufferPointer { s in
        s2c_rans_dec_init(&d, s.baseAddress, s.count)
        for item in template {
            switch item {
            case let .sym(c, _):
                let v = cdfs[c].withUnsafeBufferPointer { s2c_rans_get_cdf(&d, $0.baseAddress, Int32(cdfs[c].count - 1)) }
                out.append(.sym(cdf: c, value: Int(v)))
            case let .bits(n, _):
                out.append(.bits(count: n, value: s2c_rans_get_bits(&d, Int32(n))))
            }
        }
    }
    return (out, d)
}

@Suite struct RansTests {
    func randomItems(_ rng: inout TestRNG, cdfs: [[UInt32]], count: Int) -> [Item] {
        (0..<count).map { _ in
            if rng.int(0, 4) == 0 {
                let n = rng.int(0, 16)
                return .bits(count: n, value: UInt32(truncatingIfNeeded: rng.next()) & ((1 << n) - 1))
            }
            let c = rng.int(0, cdfs.count - 1)
            let cdf = cdfs[c]
            // favour frequency-1 symbols now and then
            let ones = (0..<(cdf.count - 1)).filter { cdf[$0 + 1] - cdf[$0] == 1 }
            let v = !ones.isEmpty && rng.int(0, 5) == 0 ? ones[rng.int(0, ones.count - 1)] : rng.int(0, cdf.count - 2)
            return .sym(cdf: c, value: v)
        }
    }

    @Test func roundTrip() throws {
        var rng = TestRNG(salt: "rans-roundtrip")
        for round in 0..<20 {
            var cdfs = (0..<5).map { _ in randomCDF(&rng, nsym: rng.int(1, 300)) }
            cdfs.append([0, 1, UInt32(S2C_RANS_SCALE)])            // a symbol of frequency 1 next to 65535
            cdfs.append([0, UInt32(S2C_RANS_SCALE)])                // a certain symbol: costs nothing
            for cdf in cdfs { #expect(s2c_rans_cdf_valid(cdf, Int32(cdf.count - 1)) == 1) }
            let items = randomItems(&rng, cdfs: cdfs, count: rng.int(0, 5000))
            let stream = try #require(ransEncode(items, cdfs: cdfs, capacity: items.count * 4 + 8))
            var (decoded, d) = ransDecode(stream, like: items, cdfs: cdfs)
            #expect(decoded == items, "round \(round) (seed \(testSeed))")
            #expect(s2c_rans_dec_done(&d) == 1)
            #expect(stream.count >= 4)
        }
    }

    @Test func streamLayout() throws {
        // Nothing coded: the stream is exactly the initial state L, little-endian.
        let empty = try #require(ransEncode([], cdfs: [], capacity: 16))
        #expect(empty == [0x00, 0x00, 0x80, 0x00])
        // 16 raw bits (frequency 1): the smallest legal frequency, a full renormalization.
        let one = try #require(ransEncode([.bits(count: 16, value: 0xBEEF)], cdfs: [], capacity: 16))
        var (decoded, d) = ransDecode(one, like: [.bits(count: 16, value: 0)], cdfs: [])
        #expect(decoded == [.bits(count: 16, value: 0xBEEF)])
        #expect(s2c_rans_dec_done(&d) == 1)
    }

    @Test func cdfValidation() {
        #expect(s2c_rans_cdf_valid([0, 65536], 1) == 1)
        #expect(s2c_rans_cdf_valid([0, 0, 65536], 2) == 0)       // zero frequency
        #expect(s2c_rans_cdf_valid([0, 100, 65535], 2) == 0)     // does not reach 2^16
        #expect(s2c_rans_cdf_valid([1, 100, 65536], 2) == 0)     // does not start at 0
        #expect(s2c_rans_cdf_valid([0, 70000, 65536], 2) == 0)   // decreasing
    }

    @Test func encoderOverflowIsFlagged() {
        var rng = TestRNG(salt: "rans-overflow")
        let cdfs = [randomCDF(&rng, nsym: 256)]
        let items = randomItems(&rng, cdfs: cdfs, count: 2000)
        #expect(ransEncode(items, cdfs: cdfs, capacity: 100) == nil)
        #expect(ransEncode(items, cdfs: cdfs, capacity: 0) == nil)
    }

    @Test func truncatedStreamIsFlagged() throws {
        var rng = TestRNG(salt: "rans-truncated")
        let cdfs = (0..<3).map { _ in randomCDF(&rng, nsym: rng.int(2, 64)) }
        let items = randomItems(&rng, cdfs: cdfs, count: 3000)
        let stream = try #require(ransEncode(items, cdfs: cdfs, capacity: 3000 * 4 + 8))
        for cut in [0, 1, 3, 4, stream.count / 2, stream.count - 1] {
            var (_, d) = ransDecode(Array(stream.prefix(cut)), like: items, cdfs: cdfs)
            #expect(d.error != 0, "cut at \(cut) of \(stream.count) not flagged")
            #expect(s2c_rans_dec_done(&d) == 0)
        }
    }

    @Test func garbageNeverCrashes() {
        var rng = TestRNG(salt: "rans-garbage")
        let cdfs = (0..<3).map { _ in randomCDF(&rng, nsym: rng.int(1, 200)) }
        var flagged = 0
        for _ in 0..<300 {
            let garbage = (0..<rng.int(0, 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let template = randomItems(&rng, cdfs: cdfs, count: 500)
            var (decoded, d) = ransDecode(garbage, like: template, cdfs: cdfs)
            #expect(decoded.count == template.count)
            for (item, got) in zip(template, decoded) {
                if case let .sym(c, v) = got { #expect(v >= 0 && v < cdfs[c].count - 1) }
                if case let .bits(n, v) = got, case .bits = item { #expect(v < (1 << n) || n == 0) }
            }
            if d.error != 0 { flagged += 1 }
            #expect(s2c_rans_dec_done(&d) == 0 || garbage.count >= 4)
        }
        // 500 symbols from <= 64 bytes must run out of input almost always
        #expect(flagged > 250)
    }
}
