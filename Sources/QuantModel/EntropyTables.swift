// EntropyTables.swift: integer CDF tables for y (Gaussian, one per scale index) and z
// (factorized prior, one per channel), with escape coding limits. Built by the calibrator,
// stored in the .s2cq file, used unchanged by encoder and decoder (no float here).

/// A family of CDFs over centred symbols, concatenated. Table t covers the symbols
/// [-tail[t], tail[t]] plus one escape symbol (index 2 tail + 1) for anything outside.
/// cdf values are 16-bit probabilities: cdf[start] = 0, cdf[start + n] = 65536, every
/// frequency >= 1.
public struct CDFTableSet: Equatable, Sendable {
    /// Probability precision (bits): frequencies sum to 1 << precision.
    public static let precision = 16
    /// Concatenated cumulative frequencies; table t occupies offsets[t] ..< offsets[t] + 2 tail[t] + 3.
    public var cdf: [Int32]
    public var offsets: [Int32]
    public var tails: [Int32]

    public init(cdf: [Int32], offsets: [Int32], tails: [Int32]) {
        self.cdf = cdf
        self.offsets = offsets
        self.tails = tails
    }

    /// Number of tables.
    public var count: Int { tails.count }

    /// Symbols in table t, the escape included.
    public func symbolCount(_ t: Int) -> Int { 2 * Int(tails[t]) + 2 }

    /// Checks the invariants a decoder relies on; returns a reason on failure.
    public func validate() -> String? {
        guard offsets.count == tails.count else { return "offsets and tails differ in length" }
        for t in 0..<count {
            let n = symbolCount(t)
            let o = Int(offsets[t])
            guard tails[t] >= 0, o >= 0, o + n <= cdf.count - 1 else {
                return "table \(t) lies outside the CDF array"
            }
            guard cdf[o] == 0, cdf[o + n] == 1 << CDFTableSet.precision else { return "table \(t) does not span 0...65536" }
            for i in 0..<n where cdf[o + i + 1] <= cdf[o + i] {
                return "table \(t) has a zero frequency at symbol \(i)"
            }
        }
        return nil
    }
}

/// Maps an integer scale (fixed point, produced by the integer entropy-parameter network) to
/// a table index: index = number of thresholds <= scale. Thresholds are increasing integers
/// chosen by the calibrator (geometric midpoints between neighbouring table scales), so no
/// float comparison happens at run time.
public struct ScaleQuantizer: Equatable, Sendable {
    public var thresholds: [Int32]

    public init(thresholds: [Int32]) { self.thresholds = thresholds }

    /// Table index for an integer scale, in 0 ... thresholds.count.
    @inline(__always)
    public func index(_ scale: Int32) -> Int {
        var lo = 0
        var hi = thresholds.count
        while lo < hi {                    // first threshold > scale
            let mid = (lo + hi) >> 1
            if thresholds[mid] <= scale { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
