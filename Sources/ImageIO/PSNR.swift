// PSNR.swift: peak signal-to-noise ratio of 8-bit images, the one definition every tool reports.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// PSNR in dB for 8-bit samples (peak 255), capped at `lossless`.
public enum PSNR {
    /// The value reported for identical images, and the cap of every PSNR: 99 dB. A finite
    /// number keeps means and JSON well defined; any real coding error is far below it (one
    /// sample off by 1 in a 768x512 RGB image is 108.8 dB uncapped).
    public static let lossless = 99.0

    /// 10 log10(255^2 / mse), at most `lossless` (mse 0 included).
    public static func fromMSE(_ mse: Double) -> Double {
        precondition(mse >= 0, "negative MSE \(mse)")
        return mse == 0 ? lossless : min(lossless, 10 * log10(255 * 255 / mse))
    }

    /// Mean squared error of two sample arrays of the same length.
    public static func mse(_ a: [UInt8], _ b: [UInt8]) -> Double {
        precondition(a.count == b.count && !a.isEmpty, "PSNR of arrays of \(a.count) and \(b.count) samples")
        var se = 0
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                for i in 0..<pa.count {
                    let d = Int(pa[i]) - Int(pb[i])
                    se += d * d
                }
            }
        }
        return Double(se) / Double(a.count)
    }

    /// PSNR of two 8-bit images (any interleaving, same length).
    public static func compute(_ a: [UInt8], _ b: [UInt8]) -> Double { fromMSE(mse(a, b)) }
}
