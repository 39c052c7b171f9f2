// QuantizeTests.swift: fixed multipliers, per-channel weights, clipping, SQNR.
import Foundation
import Testing
@testable import Calibrate

@Test func multipliersRepresentTheirFactor() {
    for real in [1e-9, 3.3e-5, 0.000123, 0.25, 0.5, 0.999999999, 1.0, 1.5, 77.7, 12345.678] {
        let m = FixedMultiplier(real)
        #expect(m.shift >= 1 && m.shift <= 62)
        #expect(abs(m.real - real) <= real * 1e-9 + 1e-18, "\(real) -> \(m)")
        if real > 1e-8 { #expect(m.mult >= 1 << 30) }
    }
    #expect(FixedMultiplier(0).mult == 0)
}

@Test func frozenRuleRoundsHalfUp() {
    let half = FixedMultiplier(0.5)                // x / 2, ties up
    #expect(half.apply(3) == 2 && half.apply(-3) == -1 && half.apply(1) == 1 && half.apply(-1) == 0)
    #expect(FixedMultiplier(0.25).apply(-2) == 0 && FixedMultiplier(0.25).apply(-6) == -1)
}

@Test func perChannelWeightsUseTheirOwnRange() {
    let w: [Float] = [0.5, -1.0, 0.25, 100, -40, 25]   // two channels of three
    let (q, s) = quantizePerChannel(w, outChannels: 2, bits: 8)
    #expect(q == [64, -127, 32, 127, -51, 32])
    #expect(abs(s[0] - 1.0 / 127) < 1e-12 && abs(s[1] - 100.0 / 127) < 1e-12)
    let (q16, _) = quantizePerChannel(w, outChannels: 2, bits: 16)
    #expect(q16[1] == -32767)
}

/// MSE clipping of a weight channel (deterministic data): a bulk of 100k values in [-1, 1] with
/// one outlier at 4 is clipped (at the max, step 4/127 costs the bulk ~8.3 in squared error; at
/// clip 2 the bulk costs ~2.1 and the outlier 4), a plain uniform channel keeps (nearly) its max,
/// and the quantized values stay in range.
@Test func weightMSEClip() {
    func err(_ w: [Float], _ q: ArraySlice<Int32>, _ s: Double) -> Double {
        zip(w, q).map { (Double($0) - Double($1) * s) * (Double($0) - Double($1) * s) }.reduce(0, +)
    }
    let n = 100_000
    var tail = (0..<n).map { Float(-1 + 2 * Double($0) / Double(n - 1)) }
    tail[n / 3] = 4
    let uniform = (0..<n).map { Float(-1 + 2 * Double(($0 * 7919) % n) / Double(n - 1)) }
    let w = tail + uniform
    let (qm, sm) = quantizePerChannel(w, outChannels: 2, bits: 8, clip: .maxAbs)
    let (qc, sc) = quantizePerChannel(w, outChannels: 2, bits: 8, clip: .mse)
    #expect(sc[0] < 0.75 * sm[0] && sc[0] >= 0.5 * sm[0], "clip \(sc[0] * 127) of max 4")
    #expect(err(tail, qc[0..<n], sc[0]) < 0.8 * err(tail, qm[0..<n], sm[0]))
    #expect(sc[1] > 0.95 * sm[1])
    #expect(err(uniform, qc[n...], sc[1]) <= err(uniform, qm[n...], sm[1]))
    #expect(qc.allSatisfy { abs($0) <= 127 })
}

@Test func mseClipBeatsMaxForHeavyTails() {
    var rng = SeededRNG(seed: 42)
    // One outlier among 400k uniform samples. Expected error (100 - c)^2 / 400k + (c / 127)^2 / 12
    // is least at c = 100 / (1 + 400k / (12 * 127^2)) = 32.6: neither the max nor the bulk.
    var xs = (0..<400_000).map { _ in Float(Double.random(in: -1...1, using: &rng)) }
    xs.append(100)
    var o = RangeObserver()
    o.observe(xs)
    let clip = o.bestClip(bits: 8)
    #expect(clip > 28 && clip < 37)
    for c in [0.5, 1.0, 2.0, 50.0] { #expect(o.expectedError(clip: clip, bits: 8) <= o.expectedError(clip: c, bits: 8)) }
    #expect(o.expectedError(clip: clip, bits: 8) < o.expectedError(clip: o.maxAbs, bits: 8))
    // Growing the range later keeps earlier samples (bins merge, counts preserved).
    o.observe([200])
    #expect(o.maxAbs == 200 && o.count == xs.count + 1)
}

@Test func allZeroActivationsAreObservedNotCrashed() {
    // A tensor that is exactly zero (a residual branch at its zero init, an anchor pass's empty
    // context) used to divide by a zero histogram range.
    var o = RangeObserver()
    o.observe([0, 0, 0, -0])
    #expect(o.maxAbs == 0 && o.count == 4 && o.bestClip(bits: 8) == 1)
    o.observe([2, -1])
    #expect(o.maxAbs == 2 && o.count == 6)
    #expect(o.expectedError(clip: 2, bits: 8) < o.expectedError(clip: 0.5, bits: 8))
}

@Test func sqnrMatchesDefinition() {
    let r: [Float] = [1, 2, 3, 4]
    let a: [Float] = [1, 2, 3, 5]
    #expect(abs(sqnr(reference: r, approx: a) - 10 * log10(30.0)) < 1e-9)
    #expect(sqnr(reference: r, approx: r) == .infinity)
}

/// The histogram does not depend on the order of values, their batching or merges: the same
/// values split in different ways give identical observers (the property parallel observation
/// relies on), including ranges that grow by many powers of two and values at the boundaries.
@Test func rangeObserverIsOrderIndependent() {
    var rng = SeededRNG(seed: 7)
    var xs = (0..<20_000).map { _ in Float(Double.random(in: -1...1, using: &rng)) }
    xs += [0, -0, 1, -1, 2, 0.5, 1e-7, 3000, -0.25, 4096]   // powers of two, a jump of 12 doublings
    var whole = RangeObserver()
    whole.observe(xs)
    var reversed = RangeObserver()
    for chunk in stride(from: xs.count, to: 0, by: -777) { reversed.observe(Array(xs[max(0, chunk - 777)..<chunk])) }
    var merged = RangeObserver(), left = RangeObserver(), right = RangeObserver(), zeros = RangeObserver()
    left.observe(Array(xs.suffix(10)))                  // the large values first
    right.observe(Array(xs.prefix(xs.count - 10)))
    zeros.observe([0, 0])
    merged.merge(zeros)
    merged.merge(left)
    merged.merge(right)
    #expect(reversed == whole)
    var withZeros = whole
    withZeros.observe([0, 0])
    #expect(merged == withZeros)
    #expect(whole.maxAbs == 4096 && whole.histMax == 8192 && whole.count == xs.count)
    #expect(whole.hist.reduce(0, +) == xs.count)
    // Without a histogram: the same range and count, and clips refuse to be computed from it.
    var bare = RangeObserver(histogram: false)
    bare.observe(xs)
    #expect(bare.maxAbs == whole.maxAbs && bare.count == whole.count && !bare.hasHistogram)
}
