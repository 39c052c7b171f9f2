// modelgraph.swift: libFuzzer harness for hostile but well-formed models: the committed pico
// model (fuzz/pico.s2cq, written by fuzz/make-model.sh: nano's graph with every block kind and
// SIMD widths at a third of its work) with structured edits applied in place, then the whole codec
// built from it (IntCodec(model:), encoder included), a small image encoded, the stream decoded
// and compared with the encoder's reconstruction and with a decode on the other kernel path
// (C reference / best SIMD), and a committed stream decoded.
//
// The input is a 4-byte prefix (quality, image, flags: bit 1 runs the networks, low three bits
// 011 on the C reference kernels, else the best ones; seed of the pixels) and 12-byte edit records:
//   op u8, 0 u8, t u16 (which entry), e u32 (which element / second entry), v u32 (value)
//   op % 8: 0 integer metadata t <- v; 1 i32-array metadata t, element e <- v; 2 tensor t,
//   element e <- v (truncated to the element type); 3 tensor t, dimension e <- v % 65536 (byte
//   count updated; skipped if it no longer fits the data section); 4 tensor t <- element type
//   v % 7 (likewise); 5 swap the type, shape and data of tensors t and e (same rank);
//   6 rename tensor t (first letter 'X'); 7 fill tensor t with v.
// The edited file is parsed without its checksum (ModelFile(bytes:verifyChecksum: false)), so
// every edit reaches the layers' own checks. A codec that loads must never crash, hang or differ
// between encoder and decoder. The edits are made in one buffer and undone after each input
// (copying the model per input would cost more than the parse).
//
// The harness is deterministic, so it does no work twice: an input whose edits make the same
// model as an earlier input's and ask for the same run (libFuzzer often mutates bytes no edit
// reads, writes a byte's own value, or changes only the prefix of an input whose model the loader
// refused) is skipped, the committed stream is decoded once per model and kernel path, and
// consecutive inputs of one model share its codec. The summary at exit says how many inputs ran.
import FixedPoint
import Foundation
@testable import QuantModel

let baseBytes: [UInt8] = repoFile("fuzz/pico.s2cq")

/// Positions of the editable fields of the base file (its parsed table, re-walked for offsets).
struct Layout {
    struct Scalar { var at: Int; var size: Int }
    struct ArrayMeta { var at: Int; var count: Int }
    struct Tensor { var nameAt: Int; var typeAt: Int; var rank: Int; var dimsAt: Int; var offsetAt: Int; var nbytesAt: Int }
    var scalars: [Scalar] = []
    var arrays: [ArrayMeta] = []
    var tensors: [Tensor] = []
    var dataOffset = 0, dataSize = 0
}

func le(_ b: [UInt8], _ p: Int, _ n: Int) -> Int { var v = 0; for i in 0..<n { v |= Int(b[p + i]) << (8 * i) }; return v }

let layout: Layout = {
    let b = baseBytes
    var l = Layout()
    let nMeta = le(b, 12, 4), nTensors = le(b, 16, 4)
    l.dataOffset = le(b, 20, 8)
    l.dataSize = le(b, 28, 8)
    var p = 36
    for _ in 0..<nMeta {
        p += 2 + le(b, p, 2)
        let tag = b[p]
        p += 1
        switch tag {
        case 0, 1: l.scalars.append(.init(at: p, size: 4)); p += 4
        case 2, 3: l.scalars.append(.init(at: p, size: 8)); p += 8
        case 4: p += 4 + le(b, p, 4)
        case 5: l.arrays.append(.init(at: p + 4, count: le(b, p, 4))); p += 4 + 4 * le(b, p, 4)
        default: fatalError("fuzz-modelgraph: unknown metadata type in the base model")
        }
    }
    for _ in 0..<nTensors {
        let nameAt = p + 2
        p += 2 + le(b, p, 2)
        let rank = Int(b[p + 1])
        l.tensors.append(.init(nameAt: nameAt, typeAt: p, rank: rank, dimsAt: p + 2, offsetAt: p + 2 + 4 * rank,
                               nbytesAt: p + 2 + 4 * rank + 8))
        p += 2 + 4 * rank + 16
    }
    return l
}()

let elementSize = [1, 2, 4, 1, 2, 4, 8]

/// The working copy of the model, and the byte ranges the current input's edits wrote.
nonisolated(unsafe) var work = baseBytes
nonisolated(unsafe) var written: [Range<Int>] = []

/// Writes the n little-endian bytes of v at p.
func put(_ p: Int, _ n: Int, _ v: UInt64) {
    written.append(p..<p + n)
    for i in 0..<n { work[p + i] = UInt8(truncatingIfNeeded: v >> UInt64(8 * i)) }
}

/// Fills `count` elements of `size` bytes at p with v (one element written, then copies doubling).
func fill(_ p: Int, _ count: Int, _ size: Int, _ v: UInt64) {
    put(p, size, v)
    let total = count * size
    work.withUnsafeMutableBufferPointer { w in
        var done = size
        while done < total {
            let n = min(done, total - done)
            (w.baseAddress! + p + done).update(from: w.baseAddress! + p, count: n)
            done += n
        }
    }
    written.append(p..<p + total)
}

/// Puts `work` back to the base model.
func restore() {
    work.withUnsafeMutableBufferPointer { w in
        baseBytes.withUnsafeBufferPointer { b in
            for r in written { (w.baseAddress! + r.lowerBound).update(from: b.baseAddress! + r.lowerBound, count: r.count) }
        }
    }
    written.removeAll(keepingCapacity: true)
}

/// SplitMix64's finalizer: a well-mixed 64-bit value of x.
func mix(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9e37_79b9_7f4a_7c15
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
}

/// 8-byte word i of a file (little-endian; past the end reads as 0).
func word(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt64 {
    let p = 8 * i
    if p + 8 <= b.count { return UnsafeRawPointer(b.baseAddress! + p).loadUnaligned(as: UInt64.self) }
    var v: UInt64 = 0
    for k in p..<b.count { v |= UInt64(b[k]) << UInt64(8 * (k - p)) }
    return v
}

/// The model an input makes, as 64 bits: a sum over the file's 8-byte words that differ from the
/// base model (only words the edits wrote can), so it depends on the edited file alone, not on the
/// order of the edits or on edits that write a byte's own value. 0: the base model.
func modelKey() -> UInt64 {
    let words = written.map { ($0.lowerBound >> 3)..<(($0.upperBound + 7) >> 3) }.sorted { $0.lowerBound < $1.lowerBound }
    var key: UInt64 = 0
    var next = 0    // words below this one are summed already
    work.withUnsafeBufferPointer { w in
        baseBytes.withUnsafeBufferPointer { b in
            for r in words {
                let lo = max(r.lowerBound, next)
                guard lo < r.upperBound else { continue }
                for i in lo..<r.upperBound {
                    let x = word(w, i)
                    if x != word(b, i) { key &+= mix(mix(UInt64(i)) ^ x) }
                }
                next = r.upperBound
            }
        }
    }
    return key
}

/// The prefix fields a run reads (quality, image, kernel path, pixel seed), as 64 bits; 0 when the
/// input does not ask for a run.
func runKey(_ prefix: [UInt8]) -> UInt64 {
    guard prefix[2] & 2 != 0 else { return 0 }
    return mix(1 << 60 | UInt64(prefix[0]) << 24 | UInt64(prefix[1]) % UInt64(images.count) << 16
               | (prefix[2] & 7 == 3 ? 1 << 8 : 0) | UInt64(prefix[3]))
}

/// Work already done: every (model, run) key run, the models the loader refused, the (model,
/// kernel path) pairs that decoded the committed stream, and the last codec built. The harness is
/// deterministic, so an input that asks for work already done (libFuzzer often changes only bytes
/// that no edit reads, or only the prefix of an input whose model is refused) is skipped, the
/// committed stream is decoded once per model and path, and a codec is built once for consecutive
/// inputs of the same model.
nonisolated(unsafe) var seen = Set<UInt64>()
nonisolated(unsafe) var refused = Set<UInt64>()
nonisolated(unsafe) var committedDecoded = Set<UInt64>()
nonisolated(unsafe) var lastCodec: (key: UInt64, codec: IntCodec)? = nil
nonisolated(unsafe) var inputs = 0, repeats = 0
let summaryAtExit: Void = {
    atexit {
        fputs("fuzz-modelgraph: \(inputs) inputs, \(inputs - repeats) run, \(repeats) skipped as repeats of an earlier input's work\n", stderr)
    }
}()

/// `n` little-endian bytes of `work` at `p`.
func rd(_ p: Int, _ n: Int) -> Int { var v = 0; for i in 0..<n { v |= Int(work[p + i]) << (8 * i) }; return v }

/// Applies one edit record to `work` (records that do not apply are skipped).
func apply(op: UInt8, t: Int, e: Int, v: UInt32) {
    let l = layout
    switch op % 8 {
    case 0:
        guard !l.scalars.isEmpty else { return }
        let s = l.scalars[t % l.scalars.count]
        put(s.at, s.size, UInt64(v))
    case 1:
        guard !l.arrays.isEmpty else { return }
        let a = l.arrays[t % l.arrays.count]
        guard a.count > 0 else { return }
        put(a.at + 4 * (e % a.count), 4, UInt64(v))
    case 2, 7:
        let x = l.tensors[t % l.tensors.count]
        let size = elementSize[min(6, Int(work[x.typeAt]))]
        let n = rd(x.nbytesAt, 8) / size
        guard n > 0 else { return }
        let start = l.dataOffset + rd(x.offsetAt, 8)
        if op % 8 == 2 {
            put(start + size * (e % n), size, UInt64(v))
        } else {
            fill(start, n, size, UInt64(v))
        }
    case 3, 4:
        let x = l.tensors[t % l.tensors.count]
        if op % 8 == 3 {
            guard x.rank > 0 else { return }
            put(x.dimsAt + 4 * (e % x.rank), 4, UInt64(v % 65536))
        } else {
            put(x.typeAt, 1, UInt64(v % 7))
        }
            var count = 1
        for d in 0..<x.rank { count *= rd(x.dimsAt + 4 * d, 4) }
        let nbytes = count * elementSize[Int(work[x.typeAt])]
        guard rd(x.offsetAt, 8) + nbytes <= l.dataSize else {
            // Does not fit: undo by restoring the base entry.
            for i in x.typeAt..<(x.nbytesAt + 8) { put(i, 1, UInt64(baseBytes[i])) }
            return
        }
        put(x.nbytesAt, 8, UInt64(nbytes))
    case 5:
        let x = l.tensors[t % l.tensors.count], y = l.tensors[e % l.tensors.count]
        guard x.rank == y.rank, x.typeAt != y.typeAt else { return }
        let n = x.nbytesAt + 8 - x.typeAt
        for i in 0..<n {
            let (u, w) = (work[x.typeAt + i], work[y.typeAt + i])
            put(x.typeAt + i, 1, UInt64(w))
            put(y.typeAt + i, 1, UInt64(u))
        }
    default:
        let x = l.tensors[t % l.tensors.count]
        put(x.nameAt, 1, 0x58)      // 'X'
    }
}

/// Tiny test images: (width, height, gray); 65 x 3 codes as two tiles with maxTile 64.
let images: [(Int, Int, Bool)] = [(1, 1, false), (8, 8, true), (65, 3, false), (3, 70, true)]

func pixels(_ w: Int, _ h: Int, _ gray: Bool, _ seed: UInt8) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 3 * w * h)
    var s = UInt32(seed) &+ 12345
    for p in 0..<(w * h) {
        s = s &* 1_103_515_245 &+ 12345
        let r = UInt8(truncatingIfNeeded: s >> 16)
        out[3 * p] = r
        out[3 * p + 1] = gray ? r : UInt8(truncatingIfNeeded: s >> 8)
        out[3 * p + 2] = gray ? r : UInt8(truncatingIfNeeded: s >> 24)
    }
    return out
}

let committedStream: Bitstream = {
    do { return try Bitstream(bytes: repoFile("Tests/Conformance/one-pixel-q3.s2c")) } catch { fatalError("\(error)") }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    s2c_set_threads(1)
    let input = inputBytes(data, size)
    var prefix: [UInt8] = [0, 0, 0, 0]
    for i in 0..<min(4, input.count) { prefix[i] = input[i] }
    var p = 4
    while p + 12 <= input.count {
        apply(op: input[p], t: le(input, p + 2, 2), e: le(input, p + 4, 4), v: UInt32(le(input, p + 8, 4)))
        p += 12
    }
    defer { restore() }
    summaryAtExit
    inputs += 1
    let model = modelKey()
    guard !refused.contains(model), seen.insert(model &+ runKey(prefix)).inserted else {
        repeats += 1
        return 0
    }
    let codec: IntCodec
    if let last = lastCodec, last.key == model {
        codec = last.codec
    } else {
        lastCodec = nil
        guard let file = try? ModelFile(bytes: work, verifyChecksum: false), let c = try? IntCodec(model: file) else {
            refused.insert(model)
            return 0
        }
        codec = c
        lastCodec = (model, c)
    }
    guard prefix[2] & 2 != 0 else { return 0 }
    let quality = 256 + Int(prefix[0]) * 6
    let (w, h, gray) = images[Int(prefix[1]) % images.count]
    let reference = prefix[2] & 7 == 3
    let kn = reference ? Kernels(flags: 0) : Kernels.best()
    let rgb = pixels(w, h, gray, prefix[3])
    if let (bs, rec) = try? codec.encode(rgb: rgb, width: w, height: h, color: gray ? .gray : .rgb,
                                         quality256: quality, maxTile: 64, kn) {
        guard let parsed = try? Bitstream(bytes: bs.serialize()) else { finding("an encoded stream does not parse") }
        guard let dec = try? codec.decode(parsed, kn) else {
            finding("an encoded stream does not decode")
        }
        guard dec == rec else { finding("decoded pixels differ from the encoder's reconstruction") }
        // The other kernel path must agree to the bit for any parameters the loader accepts.
        guard let other = try? codec.decode(parsed, reference ? Kernels.best() : Kernels(flags: 0)), other == dec else {
            finding("the C reference and the SIMD kernels decode differently")
        }
    }
    if committedDecoded.insert(model &+ mix(reference ? 2 : 3)).inserted,
       let bs = try? Bitstream(fingerprint: codec.fingerprint, width: committedStream.header.width,
                               height: committedStream.header.height, color: committedStream.header.color,
                               quality256: committedStream.header.quality256, zStream: committedStream.zStream,
                               yStream: committedStream.yStream) {
        _ = try? codec.decode(bs, kn)
    }
    return 0
}

