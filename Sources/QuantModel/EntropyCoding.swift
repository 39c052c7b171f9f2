// EntropyCoding.swift: symbols <-> rANS bytes with the model's integer CDF tables, escapes for
// out-of-range symbols, and the SymbolCoders the codec plugs into IntEntropyModel.
// Decode path, Embedded subset.
//
// A symbol s coded with table t (tail T): |s| <= T is coded as index s + T; otherwise the
// escape index 2T + 1 is coded, then raw bits: the sign (1 bit), n = bit length of |s| - T - 1
// (5 bits), and |s| - T - 1 itself in n bits (16 bits per rANS call at most).
import FixedPoint

/// One step of the encoder's log, replayed backwards into rANS (which is LIFO).
enum RansEvent {
    case cdf(offset: Int32, count: Int32, index: Int32)
    case bits(value: UInt32, count: Int32)
}

/// Collects symbols in coding order; `finish()` produces the rANS byte stream.
public struct RansSymbolWriter {
    var events: [RansEvent] = []
    let tables: CDFTableSet

    public init(tables: CDFTableSet) { self.tables = tables }

    /// Appends symbol s under table t.
    public mutating func put(_ s: Int32, table t: Int) {
        let tail = tables.tails[t]
        let off = tables.offsets[t]
        let n = Int32(tables.symbolCount(t))
        if s >= -tail && s <= tail {
            events.append(.cdf(offset: off, count: n, index: s + tail))
            return
        }
        events.append(.cdf(offset: off, count: n, index: n - 1))
        let mag = UInt32(Int64(abs(Int64(s))) - Int64(tail) - 1)
        var len: Int32 = 0
        while len < 32 && (mag >> UInt32(len)) != 0 { len += 1 }
        events.append(.bits(value: s < 0 ? 1 : 0, count: 1))
        events.append(.bits(value: UInt32(len), count: 5))
        if len > 16 {
            events.append(.bits(value: mag >> 16, count: len - 16))
            events.append(.bits(value: mag & 0xFFFF, count: 16))
        } else {
            events.append(.bits(value: mag, count: len))
        }
    }

    /// The rANS stream of everything put so far (state flushed little-endian first).
    public func finish() -> [UInt8] {
        // Each event emits at most 2 bytes on renormalisation (16-bit probabilities, byte-wise
        // renorm from [2^23, 2^31)), plus 4 flush bytes.
        let cap = 2 * events.count + 16
        var buf = [UInt8](repeating: 0, count: cap)
        var out: [UInt8] = []
        tables.cdf.withUnsafeBufferPointer { cdfp in
            cdfp.withMemoryRebound(to: UInt32.self) { u in
                buf.withUnsafeMutableBufferPointer { b in
                    var e = S2CRansEnc()
                    s2c_rans_enc_init(&e, b.baseAddress, cap)
                    for ev in events.reversed() {
                        switch ev {
                        case let .cdf(offset, _, index):
                            let p = u.baseAddress! + Int(offset)
                            s2c_rans_enc_put(&e, p[Int(index)], p[Int(index) + 1] - p[Int(index)])
                        case let .bits(value, count):
                            s2c_rans_put_bits(&e, value, count)
                        }
                    }
                    s2c_rans_enc_flush(&e)
                    precondition(e.error == 0, "rANS buffer estimate too small")
                    let start = s2c_rans_enc_data(&e)!
                    out = Array(UnsafeBufferPointer(start: start, count: s2c_rans_enc_size(&e)))
                }
            }
        }
        return out
    }
}

/// Reads symbols back from a rANS stream. Only valid inside `withReader`'s closure.
public struct RansSymbolReader {
    var dec = S2CRansDec()
    let cdf: UnsafePointer<UInt32>
    let tables: CDFTableSet
    /// Set when the stream is corrupt or truncated (decoding continues on safe values).
    public var corrupt = false

    /// Runs body with a reader over bytes; reports whether the stream ended exactly and cleanly.
    public static func withReader<R>(_ bytes: [UInt8], tables: CDFTableSet,
                                     _ body: (inout RansSymbolReader) -> R) -> (R, Bool) {
        bytes.withUnsafeBufferPointer { b in
            tables.cdf.withUnsafeBufferPointer { cdfp in
                cdfp.withMemoryRebound(to: UInt32.self) { u in
                    var r = RansSymbolReader(cdf: u.baseAddress!, tables: tables)
                    s2c_rans_dec_init(&r.dec, b.baseAddress, b.count)
                    let res = body(&r)
                    let clean = !r.corrupt && s2c_rans_dec_done(&r.dec) != 0
                    return (res, clean)
                }
            }
        }
    }

    init(cdf: UnsafePointer<UInt32>, tables: CDFTableSet) {
        self.cdf = cdf
        self.tables = tables
    }

    /// The next symbol under table t.
    public mutating func get(table t: Int) -> Int32 {
        let tail = tables.tails[t]
        let n = Int32(tables.symbolCount(t))
        let idx = s2c_rans_get_cdf(&dec, cdf + Int(tables.offsets[t]), n)
        if dec.error != 0 || idx < 0 || idx >= n { corrupt = true }
        if idx < n - 1 { return idx - tail }
        let neg = s2c_rans_get_bits(&dec, 1)
        let len = Int32(s2c_rans_get_bits(&dec, 5))
        var mag: UInt32
        if len > 17 {                       // no encoder writes this: corrupt
            corrupt = true
            mag = 0
        } else if len > 16 {
            mag = s2c_rans_get_bits(&dec, len - 16) << 16
            mag |= s2c_rans_get_bits(&dec, 16)
        } else {
            mag = s2c_rans_get_bits(&dec, len)
        }
        if dec.error != 0 { corrupt = true }
        let v = Int64(mag) + Int64(tail) + 1
        return Int32(clamping: neg != 0 ? -v : v)
    }
}

/// The latent symbol s = round(y' - mean), half up, on fixed-point values with `frac` fraction
/// bits: the one rounding rule every encoder-side coder uses.
@inline(__always)
public func latentSymbol(_ y: Int16, mean: Int32, frac: Int) -> Int32 {
    let v = Int32(y) - mean
    return frac > 0 ? (v + (1 << Int32(frac - 1))) >> Int32(frac) : v
}

/// Encoder coder for y: s = round(y' - mean) (half up, integers only), clamped to what an
/// int16 y_hat' can represent, written to the rANS log.
public struct YEncoderCoder: SymbolCoder {
    public let y: IntTensor
    public let frac: Int
    public var writer: RansSymbolWriter

    public init(y: IntTensor, frac: Int, tables: CDFTableSet) {
        self.y = y
        self.frac = frac
        writer = RansSymbolWriter(tables: tables)
    }

    public mutating func symbol(channel: Int, position: Int, mean: Int32, table: Int) -> Int32 {
        let s = latentSymbol(y.data[position * y.c + channel], mean: mean, frac: frac)
        writer.put(s, table: table)
        return s
    }
}

/// Decoder coder for y: reads each symbol with the table the model asks for.
public struct YDecoderCoder: SymbolCoder {
    public var reader: RansSymbolReader

    public mutating func symbol(channel: Int, position: Int, mean: Int32, table: Int) -> Int32 {
        reader.get(table: table)
    }
}
