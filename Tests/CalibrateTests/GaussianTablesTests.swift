// GaussianTablesTests.swift: integerized Gaussian CDF tables and scale thresholds.
import Foundation
import QuantModel
import Testing
@testable import Calibrate

@Test func tablesSatisfyDecoderInvariants() {
    let s = GaussianTables.scales()
    #expect(s.count == 64 && abs(s[0] - 0.11) < 1e-12 && abs(s[63] - 256) < 1e-9)
    let set = GaussianTables.build(scales: s)
    #expect(set.validate() == nil)
    #expect(set.tails.first == 1)            // sigma 0.11: only {-1, 0, 1} + escape
    #expect(set.tails.last! >= 1500 && set.tails.last! <= 1600)   // 256 * 6.1
}

@Test func quantizedProbabilitiesTrackTheGaussian() {
    let s = GaussianTables.scales()
    let set = GaussianTables.build(scales: s)
    for t in [0, 10, 30, 63] {
        let o = Int(set.offsets[t]), tail = Int(set.tails[t])
        // Symbol 0 of the table (v = 0) is at index tail.
        let f0 = Double(set.cdf[o + tail + 1] - set.cdf[o + tail]) / 65536
        let p0 = GaussianTables.phi(0.5 / s[t]) - GaussianTables.phi(-0.5 / s[t])
        #expect(abs(f0 - p0) <= max(2.0 / 65536, 0.002 * p0), "table \(t): \(f0) vs \(p0)")
        // Escape symbol keeps a non-zero frequency.
        let n = set.symbolCount(t)
        #expect(set.cdf[o + n] - set.cdf[o + n - 1] >= 1)
    }
}

@Test func quantizeKeepsEveryFrequencyPositive() {
    let cdf = GaussianTables.quantize(pmf: [0.999999, 1e-12, 0, 1e-9])
    #expect(cdf == [0, 65533, 65534, 65535, 65536])
    let big = GaussianTables.quantize(pmf: [0.6, 0.6])      // excess taken from the largest bins
    #expect(big.last == 65536 && big[1] >= 1)
}

@Test func thresholdsSplitScalesAtGeometricMidpoints() {
    let s = GaussianTables.scales()
    let frac = 12
    let q = GaussianTables.quantizer(scales: s, fracBits: frac)
    #expect(q.thresholds.count == 63)
    #expect(zip(q.thresholds, q.thresholds.dropFirst()).allSatisfy { $0 < $1 })
    for j in 0..<s.count {
        // The fixed-point value of each table scale maps back to its own index.
        let v = Int32((s[j] * Double(1 << frac)).rounded())
        #expect(q.index(v) == j)
    }
    #expect(q.index(Int32.min) == 0 && q.index(Int32.max) == 63)
}
