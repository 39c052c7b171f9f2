// GaussianTables.swift: builds the integerized Gaussian CDF tables and the integer scale
// thresholds that the integer codec stores in its model file (float here, never at run time).
import Foundation
import QuantModel

/// Construction of CDFTableSet and ScaleQuantizer for the Gaussian conditional of y.
public enum GaussianTables {
    /// Scales of the tables: `levels` values log-spaced over [lo, hi] (CompressAI's choice:
    /// 0.11 ... 256 in 64 steps; 0.11 is the model's own lower bound on sigma).
    public static func scales(lo: Double = 0.11, hi: Double = 256, levels: Int = 64) -> [Double] {
        precondition(levels >= 2 && lo > 0 && hi > lo)
        let a = log(lo), b = log(hi)
        return (0..<levels).map { exp(a + (b - a) * Double($0) / Double(levels - 1)) }
    }

    /// Standard normal CDF.
    static func phi(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// Tail bound of a scale: symbols with |v| > tail are escaped. tailMass is the probability
    /// left outside [-tail - 0.5, tail + 0.5] (two-sided), 1e-9 as in CompressAI.
    public static func tail(scale: Double, tailMass: Double = 1e-9) -> Int {
        // -ppf(tailMass / 2) for the standard normal, found by bisection (no inverse erf in libm).
        var lo = 0.0, hi = 40.0
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            if phi(-mid) > tailMass / 2 { lo = mid } else { hi = mid }
        }
        return max(1, Int((scale * hi).rounded(.up)))
    }

    /// 16-bit quantization of a pmf (which may sum to less than 1): every frequency >= 1 and
    /// the total exactly 65536; the deficit or excess is spread over the largest bins.
    public static func quantize(pmf: [Double]) -> [Int32] {
        let total = 1 << CDFTableSet.precision
        precondition(pmf.count >= 2 && pmf.count <= total)
        var freq = pmf.map { max(1, Int(($0 * Double(total)).rounded())) }
        var diff = total - freq.reduce(0, +)
        // Spread the correction one unit at a time over the largest bins (cycling), so no
        // single bin absorbs the rounding drift of thousands of others.
        let order = freq.indices.sorted { freq[$0] != freq[$1] ? freq[$0] > freq[$1] : $0 < $1 }
        var k = 0
        while diff != 0 {
            let i = order[k % order.count]
            if diff > 0 {
                freq[i] += 1
                diff -= 1
            } else if freq[i] > 1 {
                freq[i] -= 1
                diff += 1
            }
            k += 1
        }
        var cdf = [Int32](repeating: 0, count: freq.count + 1)
        for i in 0..<freq.count { cdf[i + 1] = cdf[i] + Int32(freq[i]) }
        return cdf
    }

    /// One table per scale over [-tail, tail] plus the escape symbol (the tail mass).
    public static func build(scales: [Double], tailMass: Double = 1e-9) -> CDFTableSet {
        var cdf: [Int32] = []
        var offsets: [Int32] = []
        var tails: [Int32] = []
        for s in scales {
            let t = tail(scale: s, tailMass: tailMass)
            var pmf = (-t...t).map { v in phi((Double(v) + 0.5) / s) - phi((Double(v) - 0.5) / s) }
            pmf.append(max(0, 1 - pmf.reduce(0, +)))       // escape
            offsets.append(Int32(cdf.count))
            tails.append(Int32(t))
            cdf += quantize(pmf: pmf)
        }
        return CDFTableSet(cdf: cdf, offsets: offsets, tails: tails)
    }

    /// Integer thresholds between neighbouring scales: the geometric midpoint of scales j and
    /// j + 1, expressed in the fixed-point format of the runtime's scale (fracBits fraction
    /// bits) and rounded up, so index(s) = j exactly when s lies in [t_{j-1}, t_j).
    public static func quantizer(scales: [Double], fracBits: Int) -> ScaleQuantizer {
        quantizer(scales: scales, unit: 1 / Double(1 << fracBits))
    }

    /// The same for a runtime scale whose integer value v means v x unit.
    public static func quantizer(scales: [Double], unit: Double) -> ScaleQuantizer {
        let one = 1 / unit
        let t = (0..<scales.count - 1).map { j in
            Int32(min(Double(Int32.max), ((scales[j] * scales[j + 1]).squareRoot() * one).rounded(.up)))
        }
        return ScaleQuantizer(thresholds: t)
    }
}
