// CalibrationImages.swift: the calibrator's input images: the PNGs of a folder, each cropped to
// a square window where it has the most detail (the default) or used whole.
import Foundation
import ImageIO

/// How each calibration image is cut down.
public enum CalibrationCrop: Equatable, Sendable {
    /// The whole image.
    case whole
    /// The side x side window (each side clipped to the image) with the most detail: among the
    /// windows whose corners lie on a 32-pixel grid (and the bottom/right-aligned ones), the one
    /// with the largest sum of squared differences between neighbouring pixels; ties go to the
    /// first in raster order.
    case detail(side: Int)
    /// The centred side x side window.
    case centre(side: Int)
}

/// The images of `dir` (at most `maxImages`, in name order) as float tensors, cropped by `crop`.
public func loadCalibrationImages(_ dir: String, maxImages: Int? = nil, crop: CalibrationCrop) throws -> [FloatTensor] {
    let files: [String]
    do {
        files = try ImageFolder.pngFiles(dir)
    } catch let e as ImageIOError {
        throw CalibrationError.images(e.description)
    }
    return try files.prefix(maxImages ?? files.count).map { f in
        let img = try PNGIO.read(path: (dir as NSString).appendingPathComponent(f))
        let t = FloatTensor(rgb8: img.pixels, width: img.width, height: img.height)
        switch crop {
        case .whole: return t
        case .centre(let side): return t.centreCrop(side: side)
        case .detail(let side):
            let (top, left) = detailWindow(img, side: side)
            return t.crop(top: top, left: left, height: min(side, img.height), width: min(side, img.width))
        }
    }
}

/// Top-left corner of the side x side window of `img` with the most detail (CalibrationCrop.detail).
public func detailWindow(_ img: RGBImage, side: Int) -> (top: Int, left: Int) {
    let w = img.width, h = img.height
    let sh = min(side, h), sw = min(side, w)
    // Per-pixel detail: squared differences to the right and lower neighbours, summed over R, G, B.
    var energy = [Double](repeating: 0, count: (h + 1) * (w + 1))      // summed-area table
    img.pixels.withUnsafeBufferPointer { p in
        for y in 0..<h {
            var row = 0.0
            for x in 0..<w {
                var e = 0
                for c in 0..<3 {
                    let v = Int(p[(y * w + x) * 3 + c])
                    if x + 1 < w { let d = v - Int(p[(y * w + x + 1) * 3 + c]); e += d * d }
                    if y + 1 < h { let d = v - Int(p[((y + 1) * w + x) * 3 + c]); e += d * d }
                }
                row += Double(e)
                energy[(y + 1) * (w + 1) + x + 1] = energy[y * (w + 1) + x + 1] + row
            }
        }
    }
    func sum(_ top: Int, _ left: Int) -> Double {
        let a = top * (w + 1) + left, b = (top + sh) * (w + 1) + left
        return energy[b + sw] - energy[b] - energy[a + sw] + energy[a]
    }
    func positions(_ n: Int, _ s: Int) -> [Int] {
        var p = Array(stride(from: 0, through: n - s, by: 32))
        if p.last != n - s { p.append(n - s) }
        return p
    }
    var best = (top: 0, left: 0), bestSum = -1.0
    for top in positions(h, sh) {
        for left in positions(w, sw) where sum(top, left) > bestSum {
            bestSum = sum(top, left)
            best = (top, left)
        }
    }
    return best
}

extension FloatTensor {
    /// The height x width window whose top-left corner is (top, left).
    public func crop(top: Int, left: Int, height h: Int, width w: Int) -> FloatTensor {
        precondition(top >= 0 && left >= 0 && top + h <= height && left + w <= width)
        var out = FloatTensor(channels: channels, height: h, width: w)
        for c in 0..<channels {
            for y in 0..<h {
                let src = (c * height + top + y) * width + left
                let dst = (c * h + y) * w
                out.data.replaceSubrange(dst..<(dst + w), with: data[src..<(src + w)])
            }
        }
        return out
    }

    /// The centred side x side window (each side clipped to the image).
    public func centreCrop(side: Int) -> FloatTensor {
        let h = min(height, side), w = min(width, side)
        return crop(top: (height - h) / 2, left: (width - w) / 2, height: h, width: w)
    }
}
