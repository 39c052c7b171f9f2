// IntTensor.swift: int16 activations in HWC layout and the kernel tables the integer graph uses.
import FixedPoint

/// An int16 tensor in HWC layout: element (y, x, ch) at (y * w + x) * c + ch. Its real scale is
/// known to the calibrator only; the runtime never needs it.
public struct IntTensor: Equatable, Sendable {
    public var h: Int
    public var w: Int
    public var c: Int
    public var data: [Int16]

    public init(h: Int, w: Int, c: Int, data: [Int16]) {
        precondition(data.count == h * w * c, "tensor data does not match \(h)x\(w)x\(c)")
        self.h = h
        self.w = w
        self.c = c
        self.data = data
    }

    public init(h: Int, w: Int, c: Int) {
        self.init(h: h, w: w, c: c, data: [Int16](repeating: 0, count: h * w * c))
    }

    /// A tensor whose every element the caller is about to write (a kernel output): no zero fill.
    /// Only for kernels that write their whole output; reading an element before it is written
    /// would make the result depend on memory contents.
    init(h: Int, w: Int, c: Int, overwritten: Void) {
        self.h = h
        self.w = w
        self.c = c
        data = [Int16](unsafeUninitializedCapacity: h * w * c) { _, n in n = h * w * c }
    }

    /// Channels [from, from + n) of every position, as a new tensor.
    public func channels(_ from: Int, _ n: Int) -> IntTensor {
        var out = IntTensor(h: h, w: w, c: n)
        for p in 0..<(h * w) {
            for ch in 0..<n { out.data[p * n + ch] = data[p * c + from + ch] }
        }
        return out
    }

    /// Concatenation along channels.
    public static func concat(_ parts: [IntTensor]) -> IntTensor {
        let h = parts[0].h, w = parts[0].w
        let c = parts.reduce(0) { $0 + $1.c }
        var out = IntTensor(h: h, w: w, c: c)
        var off = 0
        for t in parts {
            precondition(t.h == h && t.w == w)
            for p in 0..<(h * w) {
                for ch in 0..<t.c { out.data[p * c + off + ch] = t.data[p * t.c + ch] }
            }
            off += t.c
        }
        return out
    }
}

extension IntTensor {
    /// Rows `positions` (pixel indices p = y * w + x) of the channel concatenation of `parts`, as a
    /// 1 x positions.count tensor; a nil part stands for zeros of its width.
    public static func gather(_ parts: [(tensor: IntTensor?, width: Int)], positions: [Int]) -> IntTensor {
        var c = 0
        for p in parts { c += p.width }
        var out = IntTensor(h: 1, w: positions.count, c: c)
        out.data.withUnsafeMutableBufferPointer { o in
            var off = 0
            for (t, width) in parts {
                if let t {
                    precondition(t.c == width)
                    t.data.withUnsafeBufferPointer { s in
                        for (i, p) in positions.enumerated() {
                            for ch in 0..<width { o[i * c + off + ch] = s[p * width + ch] }
                        }
                    }
                }
                off += width
            }
        }
        return out
    }
}

/// The dispatch tables of every kernel family, filled for one CPU-flag set.
public struct Kernels: @unchecked Sendable {
    public var gemm = S2CGemmDSP()
    public var ops = S2COpsDSP()
    public var elt = S2CEltDSP()
    /// Working-set bound: per-pixel work (a block's LayerNorm + FFN half) runs on bands of at
    /// most this many pixels, and a k x k convolution's patch matrix holds at most this many
    /// output pixels at a time (at least one output row). The output never depends on it (the
    /// banded ops are per pixel or per output row); it only caps peak memory. Tests shrink it
    /// to exercise the band edges.
    public var bandPixels = 16384

    /// Best variants the flags allow (pass `s2c_cpu_flags()`; 0 forces the C references).
    public init(flags: UInt32) {
        s2c_gemm_dsp_init(&gemm, flags)
        s2c_ops_dsp_init(&ops, flags)
        s2c_elt_dsp_init(&elt, flags)
    }

    /// Best variants for this CPU under the current mask (S2C_CPU_MASK / s2c_set_cpu_mask).
    public static func best() -> Kernels { Kernels(flags: s2c_cpu_flags()) }
}
