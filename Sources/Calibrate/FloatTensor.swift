// FloatTensor: the float runtime's activation type, one image (batch 1) in NCHW order.

/// Called with a layer's PyTorch module name and its output; used to record activation
/// statistics. Modules run twice per group in the entropy model (anchor pass, then
/// non-anchor pass) report twice under the same name.
public typealias FloatObserver = (String, FloatTensor) -> Void

/// A (1, C, H, W) float tensor stored channel-major: element (c, y, x) at (c * H + y) * W + x.
public struct FloatTensor: Sendable, Equatable {
    /// C.
    public var channels: Int
    /// H.
    public var height: Int
    /// W.
    public var width: Int
    /// C * H * W elements.
    public var data: [Float]

    /// Wraps `data`; its count must be channels * height * width.
    public init(channels: Int, height: Int, width: Int, data: [Float]) {
        precondition(channels >= 0 && height >= 0 && width >= 0 && data.count == channels * height * width,
                     "FloatTensor: data.count \(data.count) != \(channels)x\(height)x\(width)")
        self.channels = channels
        self.height = height
        self.width = width
        self.data = data
    }

    /// A tensor filled with `value`.
    public init(channels: Int, height: Int, width: Int, repeating value: Float = 0) {
        self.init(channels: channels, height: height, width: width,
                  data: [Float](repeating: value, count: channels * height * width))
    }

    /// Elements per channel plane.
    public var plane: Int { height * width }
    /// PyTorch-style shape (1, C, H, W).
    public var shape: [Int] { [1, channels, height, width] }

    /// Element (c, y, x).
    public subscript(c: Int, y: Int, x: Int) -> Float {
        get { data[(c * height + y) * width + x] }
        set { data[(c * height + y) * width + x] = newValue }
    }

    /// Channels `range` (a contiguous copy).
    public func channels(_ range: Range<Int>) -> FloatTensor {
        precondition(range.lowerBound >= 0 && range.upperBound <= channels)
        return FloatTensor(channels: range.count, height: height, width: width,
                           data: Array(data[(range.lowerBound * plane)..<(range.upperBound * plane)]))
    }

    /// Concatenation along channels (torch.cat(dim=1)); all parts share H and W.
    public static func concat(_ parts: [FloatTensor]) -> FloatTensor {
        guard let first = parts.first else { return FloatTensor(channels: 0, height: 0, width: 0) }
        var data: [Float] = []
        data.reserveCapacity(parts.reduce(0) { $0 + $1.data.count })
        for p in parts {
            precondition(p.height == first.height && p.width == first.width, "concat: spatial sizes differ")
            data.append(contentsOf: p.data)
        }
        return FloatTensor(channels: parts.reduce(0) { $0 + $1.channels }, height: first.height,
                           width: first.width, data: data)
    }

    /// The top-left `height` x `width` region.
    public func cropped(height h: Int, width w: Int) -> FloatTensor {
        precondition(h <= height && w <= width)
        if h == height && w == width { return self }
        var out = FloatTensor(channels: channels, height: h, width: w)
        for c in 0..<channels {
            for y in 0..<h {
                let src = (c * height + y) * width
                let dst = (c * h + y) * w
                out.data.replaceSubrange(dst..<(dst + w), with: data[src..<(src + w)])
            }
        }
        return out
    }

    /// Bottom/right edge replication up to multiples of `multiple` (model.py `pad_to`).
    public func paddedReplicate(multiple: Int) -> FloatTensor {
        let h = (height + multiple - 1) / multiple * multiple
        let w = (width + multiple - 1) / multiple * multiple
        if h == height && w == width { return self }
        var out = FloatTensor(channels: channels, height: h, width: w)
        for c in 0..<channels {
            for y in 0..<h {
                let src = (c * height + min(y, height - 1)) * width
                let dst = (c * h + y) * w
                for x in 0..<w { out.data[dst + x] = data[src + min(x, width - 1)] }
            }
        }
        return out
    }

    /// Largest |a - b| over all elements (shapes must match).
    public func maxAbsDifference(_ other: FloatTensor) -> Float {
        precondition(shape == other.shape, "maxAbsDifference: shapes \(shape) and \(other.shape) differ")
        var m: Float = 0
        for i in 0..<data.count { m = max(m, abs(data[i] - other.data[i])) }
        return m
    }

    /// An RGB image as a (1, 3, H, W) tensor of v / 255 (interleaved 8-bit input).
    public init(rgb8 pixels: [UInt8], width: Int, height: Int) {
        precondition(pixels.count == width * height * 3)
        self.init(channels: 3, height: height, width: width)
        let p = width * height
        for i in 0..<p {
            for c in 0..<3 { data[c * p + i] = Float(pixels[3 * i + c]) / 255 }
        }
    }

    /// A 3-channel tensor as interleaved 8-bit RGB: clamp to [0, 1], v = round(255 x)
    /// (round half to even, like torch.round).
    public func rgb8() -> [UInt8] {
        precondition(channels == 3)
        let p = plane
        var out = [UInt8](repeating: 0, count: 3 * p)
        for i in 0..<p {
            for c in 0..<3 {
                let v = min(max(data[c * p + i], 0), 1) * 255
                out[3 * i + c] = UInt8(v.rounded(.toNearestOrEven))
            }
        }
        return out
    }
}
