// Quantize.swift: the calibrator's quantization primitives: fixed-point multipliers for the
// frozen requant rule, per-channel weight quantization, activation range observers with
// MSE-optimal clipping, and SQNR.
import Foundation

/// A positive real rescale factor as the integer pair the kernels use:
/// real ~= mult * 2^-shift, applied as (acc * mult + (1 << (shift - 1))) >> shift.
public struct FixedMultiplier: Equatable, Sendable {
    public var mult: Int32
    public var shift: Int32

    /// mult in [2^30, 2^31) for full precision; shift in [1, 62]. Factors too small for
    /// shift 62 become mult 0 (the product is zero anyway); factors >= 2^30 are refused.
    public init(_ real: Double) {
        precondition(real >= 0 && real.isFinite && real < Double(1 << 30), "rescale factor \(real) out of range")
        if real == 0 {
            mult = 0
            shift = 1
            return
        }
        let e = Int(real.exponent) + 1             // real = f * 2^e, f in [0.5, 1)
        let f = real.significand / 2
        var m = Int64((f * Double(Int64(1) << 31)).rounded())
        var s = 31 - e
        if m == 1 << 31 {                          // rounding carried into the next power of two
            m >>= 1
            s -= 1
        }
        if s > 62 {                                // too small: lose precision rather than overflow
            m >>= Int64(min(63, s - 62))
            s = 62
        }
        precondition(s >= 1, "rescale factor \(real) needs a negative shift")
        mult = Int32(m)
        shift = Int32(s)
    }

    /// The real factor this pair represents.
    public var real: Double { Double(mult) * pow(2, -Double(shift)) }

    /// The frozen rule (round half up, int64 intermediate), for the calibrator's own checks.
    public func apply(_ acc: Int64) -> Int64 {
        (acc * Int64(mult) + (Int64(1) << Int64(shift - 1))) >> Int64(shift)
    }
}

/// How a weight channel's clipping range is chosen.
public enum WeightClip: Sendable {
    /// The channel's largest magnitude: nothing is clipped.
    case maxAbs
    /// The clip in [0.5, 1] x max that minimises the channel's squared quantization error
    /// (grid of 1/100): clips a few outliers to quantize the bulk more finely.
    case mse
}

/// Symmetric per-output-channel quantization of a weight tensor whose leading axis is the
/// output channel. Returns integers in [-qmax, qmax] and each channel's scale (real = q * scale).
/// Channels are independent: large tensors are split over the cores (same result).
public func quantizePerChannel(_ w: [Float], outChannels: Int, bits: Int,
                               clip: WeightClip = .maxAbs) -> (q: [Int32], scales: [Double]) {
    precondition(outChannels > 0 && w.count % outChannels == 0 && (bits == 8 || bits == 16))
    let per = w.count / outChannels
    let qmax = Double((1 << (bits - 1)) - 1)
    var q = [Int32](repeating: 0, count: w.count)
    var scales = [Double](repeating: 1, count: outChannels)
    w.withUnsafeBufferPointer { wp in
        q.withUnsafeMutableBufferPointer { qp in
            scales.withUnsafeMutableBufferPointer { sp in
                let qBase = qp.baseAddress!, sBase = sp.baseAddress!
                func channel(_ n: Int) {
                    let row = UnsafeBufferPointer(rebasing: wp[n * per..<(n + 1) * per])
                    var m = 0.0
                    for v in row { m = max(m, Double(abs(v))) }
                    guard m > 0 else { return }
                    var s = m / qmax
                    if case .mse = clip {
                        var bestErr = Double.infinity
                        for k in stride(from: 100, through: 50, by: -1) {
                            let sc = m * Double(k) / 100 / qmax
                            var err = 0.0
                            for v in row {
                                let d = Double(v) - max(-qmax, min(qmax, (Double(v) / sc).rounded())) * sc
                                err += d * d
                            }
                            if err < bestErr {
                                bestErr = err
                                s = sc
                            }
                        }
                    }
                    sBase[n] = s
                    for (i, v) in row.enumerated() {
                        qBase[n * per + i] = Int32(max(-qmax, min(qmax, (Double(v) / s).rounded())))
                    }
                }
                let chunks = w.count >= 1 << 16 ? min(outChannels, 4 * ProcessInfo.processInfo.activeProcessorCount) : 1
                parallelFor(chunks) { c in
                    for n in stride(from: c, to: outChannels, by: chunks) { channel(n) }
                }
            }
        }
    }
    return (q, scales)
}

/// Collects a histogram of |x| for one activation tensor over the calibration set, then picks
/// the symmetric clipping range that minimises the expected quantization MSE.
///
/// The histogram's upper end is the smallest power of two above every |x| seen, so a value's
/// bin is floor(|x| * bins / histMax) computed exactly (a power-of-two scale), and growing the
/// range merges whole bins. The result therefore does not depend on the order in which values,
/// batches or other observers (`merge`) arrive: parallel observation stays deterministic.
public struct RangeObserver: Sendable, Equatable {
    public static let bins = 2048
    public private(set) var maxAbs: Double = 0
    public private(set) var count: Int = 0
    /// Counts of |x| over [0, histMax) in `bins` equal bins; empty when not kept.
    var hist: [Int]
    /// A power of two above every |x| seen; 0 while every value was zero (they sit in bin 0).
    var histMax: Double = 0

    /// `histogram`: also keep the histogram (needed by `expectedError` and `bestClip`); without
    /// it only the range and the count are kept, which costs a tenth of the time per value.
    public init(histogram: Bool = true) {
        hist = histogram ? [Int](repeating: 0, count: RangeObserver.bins) : []
    }

    /// Whether the histogram is kept.
    public var hasHistogram: Bool { !hist.isEmpty }

    /// Adds a batch of values.
    public mutating func observe(_ xs: [Float]) {
        xs.withUnsafeBufferPointer { observe($0) }
    }

    /// Adds a batch of values.
    public mutating func observe(_ xs: UnsafeBufferPointer<Float>) {
        guard let base = xs.baseAddress, !xs.isEmpty else { return }
        grow(to: Double(Calibrate.maxAbs(xs)))
        count += xs.count
        guard hasHistogram else { return }
        guard histMax > 0 else {            // all zeros so far (e.g. a residual branch still at its zero init)
            hist[0] += xs.count
            return
        }
        // bins / histMax is a power of two: |x| * scale is exact, and below `bins`.
        let scale = Double(RangeObserver.bins) / histMax
        hist.withUnsafeMutableBufferPointer { h in
            if scale <= 0x1p100 {
                let s = Float(scale)
                for i in 0..<xs.count { h[Int(abs(base[i]) * s)] += 1 }
            } else {                        // tiny ranges: in Float the scale would overflow
                for i in 0..<xs.count { h[Int(Double(abs(base[i])) * scale)] += 1 }
            }
        }
    }

    /// Adds everything another observer saw (the same result as observing its values here).
    public mutating func merge(_ other: RangeObserver) {
        guard other.count > 0 else { return }
        precondition(hasHistogram == other.hasHistogram, "merging observers with and without a histogram")
        grow(to: other.maxAbs)
        var theirs = other
        theirs.grow(to: maxAbs)
        count += theirs.count
        for i in hist.indices { hist[i] += theirs.hist[i] }
    }

    /// Raises maxAbs to m, widening the histogram (merging pairs of bins per doubling) as needed.
    mutating func grow(to m: Double) {
        maxAbs = max(maxAbs, m)
        guard m > 0, m >= histMax else { return }
        let newMax = Double(sign: .plus, exponent: m.exponent + 1, significand: 1)     // > m
        if histMax > 0 && hasHistogram {
            var h = hist
            while histMax < newMax {
                var merged = [Int](repeating: 0, count: RangeObserver.bins)
                for i in 0..<RangeObserver.bins { merged[i / 2] += h[i] }
                h = merged
                histMax *= 2
            }
            hist = h
        }
        histMax = newMax
    }

    /// Expected squared error of symmetric b-bit quantization with clip c, from the histogram.
    public func expectedError(clip c: Double, bits: Int) -> Double {
        precondition(hasHistogram, "expectedError needs the histogram")
        let step = c / Double((1 << (bits - 1)) - 1)
        let w = histMax / Double(RangeObserver.bins)
        var err = 0.0
        for (i, n) in hist.enumerated() where n > 0 {
            let x = (Double(i) + 0.5) * w
            err += x > c ? Double(n) * (x - c) * (x - c) : Double(n) * step * step / 12
        }
        return err / Double(max(count, 1))
    }

    /// The clip in (0, maxAbs] with the least expected error (grid search over 200 candidates).
    public func bestClip(bits: Int) -> Double {
        precondition(hasHistogram, "bestClip needs the histogram")
        guard maxAbs > 0 else { return 1 }
        var best = maxAbs
        var bestErr = expectedError(clip: maxAbs, bits: bits)
        for k in 1..<200 {
            let c = maxAbs * Double(k) / 200
            let e = expectedError(clip: c, bits: bits)
            if e < bestErr {
                bestErr = e
                best = c
            }
        }
        return best
    }
}

/// Signal-to-quantization-noise ratio in dB of an approximation against a reference.
public func sqnr(reference: [Float], approx: [Float]) -> Double {
    precondition(reference.count == approx.count)
    var s = 0.0, n = 0.0
    for i in reference.indices {
        let r = Double(reference[i])
        let d = r - Double(approx[i])
        s += r * r
        n += d * d
    }
    return n == 0 ? .infinity : 10 * log10(s / n)
}
